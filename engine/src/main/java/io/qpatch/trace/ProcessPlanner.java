package io.qpatch.trace;

import io.qpatch.arch.x86_64.Decoder;
import io.qpatch.elf.ElfFile;
import io.qpatch.error.BadInputException;
import io.qpatch.error.QpatchException;
import io.qpatch.symbols.Module;
import io.qpatch.symbols.ProcessSymbols;
import io.qpatch.trace.go.GoBinary;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Plans the probes of a process: its executable's functions (Go or C/C++), and, when a
 * filter names them, the functions of every shared library it has mapped ({@code
 * ^malloc$}, {@code libc.so.6!malloc}). A filter that matches nothing is an error that
 * names the closest names there are.
 */
final class ProcessPlanner {
  private static final int SUGGESTIONS = 5;

  private ProcessPlanner() {}

  static ProbePlan plan(int pid, Selection selection, boolean decode) {
    try (ProcessSymbols symbols = ProcessSymbols.of(pid)) {
      Module main = symbols.mainProgram()
          .orElseThrow(() -> new BadInputException("pid " + pid + " has no main program mapping"));
      ProbePlan plan = executable(main, selection, decode);
      if (selection.filter().isEmpty()) return plan;
      int inLibraries = 0;
      for (Module m : libraries(symbols)) {
        ProbePlan lib;
        try {
          CPlanner planner = new CPlanner(m.elf(), m.loadBias(), Decoder.shared(), m.name(), plan.functions().size());
          lib = planner.plan(m.path(), selection);
          if (decode && !lib.functions().isEmpty()) lib = lib.withDecoder(planner.argDecoder(lib));
        } catch (QpatchException e) {
          continue; // a library we cannot read (deleted, not ELF): its functions are not offered
        }
        inLibraries += lib.functions().size();
        plan = plan.with(lib);
      }
      if (plan.functions().isEmpty() && plan.skipped().isEmpty()) throw nothingMatches(pid, selection, main, symbols);
      return inLibraries == 0 ? plan : plan.described(plan.description() + ", " + inLibraries + " in libraries");
    }
  }

  private static ProbePlan executable(Module main, Selection selection, boolean decode) {
    ElfFile elf = main.elf();
    Optional<GoBinary> go = GoBinary.of(elf);
    if (go.isPresent()) {
      GoPlanner planner = new GoPlanner(go.get(), main.loadBias());
      ProbePlan plan = planner.plan(main.path(), selection);
      return decode ? plan.withDecoder(planner.argDecoder(plan)) : plan;
    }
    CPlanner planner = new CPlanner(elf, main.loadBias(), Decoder.shared());
    ProbePlan plan = planner.plan(main.path(), selection);
    return decode ? plan.withDecoder(planner.argDecoder(plan)) : plan;
  }

  /** Mapped shared libraries with a file (not the vdso, not the executable). */
  private static List<Module> libraries(ProcessSymbols symbols) {
    return symbols.modules().stream().filter(m -> !m.isMainProgram() && !m.isVdso()).toList();
  }

  private static BadInputException nothingMatches(int pid, Selection selection, Module main, ProcessSymbols symbols) {
    String filter = selection.filter().get().pattern();
    List<String> names = new ArrayList<>();
    try {
      Optional<GoBinary> go = GoBinary.of(main.elf());
      if (go.isPresent()) go.get().functions().forEach(f -> names.add(f.name()));
      else names.addAll(new CPlanner(main.elf(), main.loadBias(), Decoder.shared()).names(selection.demangle()));
      for (Module m : libraries(symbols)) {
        try {
          for (String n : new CPlanner(m.elf(), m.loadBias(), Decoder.shared()).names(selection.demangle())) {
            names.add(m.name() + "!" + n);
          }
        } catch (QpatchException e) {
          // unreadable library: not suggested
        }
      }
    } catch (QpatchException e) {
      // nothing to suggest from
    }
    List<String> close = closest(filter, names);
    return new BadInputException("no function of pid " + pid + " matches the filter '" + filter + "'"
        + (close.isEmpty() ? "" : "; close: " + String.join(", ", close)));
  }

  /**
   * The names nearest to the filter's literal text: those containing it (ignoring case),
   * then those within a small edit distance of it, shortest first.
   */
  static List<String> closest(String filter, List<String> names) {
    String literal = filter.replaceAll("\\\\.", ".").replaceAll("[\\^$\\\\*+?()\\[\\]{}|]", "").toLowerCase();
    if (literal.isEmpty()) return List.of();
    int limit = Math.max(2, literal.length() / 3);
    record Scored(String name, int score) {}
    List<Scored> scored = new ArrayList<>();
    for (String n : names) {
      String plain = n.substring(n.indexOf('!') + 1).toLowerCase();
      int d = plain.contains(literal) ? 0 : distance(literal, plain, limit);
      if (d <= limit) scored.add(new Scored(n, d * 1000 + n.length()));
    }
    return scored.stream().sorted(Comparator.comparingInt(Scored::score)).map(Scored::name).distinct()
        .limit(SUGGESTIONS).toList();
  }

  /** Levenshtein distance, or {@code limit + 1} once it is certain to exceed {@code limit}. */
  static int distance(String a, String b, int limit) {
    if (Math.abs(a.length() - b.length()) > limit) return limit + 1;
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) prev[j] = j;
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      int best = cur[0];
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
        best = Math.min(best, cur[j]);
      }
      if (best > limit) return limit + 1;
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
