package io.qpatch.trace;

import io.qpatch.arch.x86_64.Decoder;
import io.qpatch.arch.x86_64.Instruction;
import io.qpatch.dwarf.Dwarf;
import io.qpatch.elf.ElfFile;
import io.qpatch.error.QpatchException;
import io.qpatch.elf.Section;
import io.qpatch.elf.Symbol;
import io.qpatch.elf.SymbolTable;
import io.qpatch.trace.go.GEntry;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Plans the probes of a C or C++ executable: every defined function symbol with a size
 * in an executable section ({@code .symtab}, else {@code .dynsym} of a stripped file),
 * one probe at its entry and, when asked, one at each {@code ret} found by a linear
 * sweep of its bytes.
 */
final class CPlanner {
  private final ElfFile elf;
  private final long bias;
  private final Decoder decoder;
  /** A shared library's name ("libc.so.6"), which qualifies its functions' names; null: the executable. */
  private final String library;
  /** The id of the first function planned (the ids of a plan's modules follow one another). */
  private final int firstId;

  CPlanner(ElfFile elf, long bias, Decoder decoder) {
    this(elf, bias, decoder, null, 0);
  }

  /** A planner for shared library {@code library}, its functions numbered from {@code firstId}. */
  CPlanner(ElfFile elf, long bias, Decoder decoder, String library, int firstId) {
    this.elf = elf;
    this.bias = bias;
    this.decoder = decoder;
    this.library = library;
    this.firstId = firstId;
  }

  /** Every name this file would offer the filter, for suggestions when nothing matches. */
  List<String> names(boolean demangle) {
    List<String> names = functionGroups().stream().flatMap(List::stream).map(Symbol::name).toList();
    return demangle ? Demangler.demangle(names) : names;
  }

  ProbePlan plan(String path, Selection selection) {
    List<List<Symbol>> groups = functionGroups();
    List<String> flat = new ArrayList<>();
    for (List<Symbol> g : groups) for (Symbol s : g) flat.add(s.name());
    if (selection.demangle()) flat = Demangler.demangle(flat);
    List<TracedFunction> functions = new ArrayList<>();
    List<ProbeSite> sites = new ArrayList<>();
    Map<String, String> skipped = new LinkedHashMap<>();
    int at = 0;
    for (List<Symbol> group : groups) {
      String shown = accepted(flat.subList(at, at + group.size()), selection);
      at += group.size();
      if (shown == null) continue;
      Symbol s = group.getFirst();
      if (s.type() == Symbol.STT_GNU_IFUNC) {
        skipped.put(shown, "an IFUNC symbol: its address is the resolver, not the implementation the process selected");
        continue;
      }
      TracedFunction fn = new TracedFunction(firstId + functions.size(), shown, s.value() + bias, s.size(), Abi.SYSV,
          GEntry.UNKNOWN, path);
      String refusal = addSites(fn, s, selection.returns(), sites);
      if (refusal != null) skipped.put(fn.name(), refusal);
      else functions.add(fn);
    }
    String what = (library == null ? "C/C++ executable " : "library ") + path + ": " + functions.size() + " functions";
    return new ProbePlan(path, bias, functions, sites, skipped, -1, ProbePlan.NO_TLS, what, null, null);
  }

  /**
   * The argument decoder for the plan's functions, from the file's DWARF (SysV
   * assignment); null when it has none (built without -g): arguments then stay raw.
   */
  ArgDecoder argDecoder(ProbePlan plan) {
    Optional<Dwarf> dwarf = Dwarf.of(elf);
    if (dwarf.isEmpty()) return null;
    Map<Integer, ArgDecoder.Signature> signatures = new java.util.HashMap<>();
    for (TracedFunction fn : plan.functions()) {
      try {
        dwarf.get().functionAt(fn.entry() - bias).filter(f -> f.lowPc() == fn.entry() - bias)
            .ifPresent(f -> signatures.put(fn.id(),
                new ArgDecoder.Signature(SysvAssigner.params(f), SysvAssigner.results(f))));
      } catch (QpatchException e) {
        // DWARF that does not describe this function well: its arguments stay raw
      }
    }
    return new ArgDecoder(signatures, Map.of());
  }

  /** Adds the sites of {@code fn}; returns why it cannot be probed, or null. */
  private String addSites(TracedFunction fn, Symbol s, boolean returns, List<ProbeSite> out) {
    byte[] code = code(s);
    if (code == null) return "its bytes are not in the file";
    Optional<Instruction> first = decoder.decode(code, fn.entry());
    if (first.isEmpty()) return "its first instruction does not decode";
    if (first.get().isInt3()) return "it starts with int3";
    Displaced how = Emulation.of(first.get(), code, fn.entry());
    if (how == null) return "it starts with an indirect call through memory";
    out.add(new ProbeSite(fn.entry(), fileOffset(s.value()), ProbeSite.Kind.CALL, fn, how));
    if (returns) addReturns(fn, s, code, out);
    return null;
  }

  private void addReturns(TracedFunction fn, Symbol s, byte[] code, List<ProbeSite> out) {
    for (Instruction insn : decoder.decodeAll(code, fn.entry())) {
      if (!insn.isRet() || insn.address() == fn.entry()) continue;
      long linkAddress = insn.address() - bias;
      Displaced how = insn.length() == 1 ? new Displaced.Ret() : relocatedAt(insn, code, fn);
      out.add(new ProbeSite(insn.address(), fileOffset(linkAddress), ProbeSite.Kind.RETURN, fn, how));
    }
  }

  /** {@code repz ret} and {@code ret imm16} run out of line like any other instruction. */
  private static Displaced relocatedAt(Instruction insn, byte[] code, TracedFunction fn) {
    int from = (int) (insn.address() - fn.entry());
    return new Displaced.Relocated(java.util.Arrays.copyOfRange(code, from, code.length), insn.address());
  }

  /**
   * The name the function is shown as when the selection takes one of its names ({@code
   * names}: the preferred first, then its aliases), else null. A library's function is
   * shown qualified ("libc.so.6!printf") by the alias that matched.
   */
  private String accepted(List<String> names, Selection selection) {
    for (String n : names) {
      String shown = library == null ? n : library + "!" + n;
      if (library == null ? selection.accepts(shown) : selection.acceptsLibrary(n, shown)) return shown;
    }
    return null;
  }

  /**
   * Defined functions with a size in executable sections, by address; each group is the
   * names of one address, a global one first (an alias's local twin is noise), so that
   * a filter may name any alias (glibc's printf is also _IO_printf).
   */
  private List<List<Symbol>> functionGroups() {
    Optional<SymbolTable> table = elf.symtab().or(elf::dynsym);
    if (table.isEmpty()) return List.of();
    Map<Long, List<Symbol>> byAddress = new TreeMap<>();
    for (Symbol s : table.get().symbols()) {
      if (!s.isFunction() || !s.isDefined() || s.size() == 0 || s.isAbsolute()) continue;
      if (s.sectionIndex() >= Symbol.SHN_LORESERVE) continue;
      if (!elf.section(s.sectionIndex()).isExecutable()) continue;
      List<Symbol> names = byAddress.computeIfAbsent(s.value(), a -> new ArrayList<>());
      if (names.stream().noneMatch(n -> n.name().equals(s.name()))) names.add(s);
    }
    List<List<Symbol>> out = new ArrayList<>();
    for (List<Symbol> names : byAddress.values()) {
      names.sort(Comparator.comparing(Symbol::isLocal));
      out.add(names);
    }
    return out;
  }

  /** The function's bytes from its section, or null when they lie outside it. */
  private byte[] code(Symbol s) {
    Section sec = elf.section(s.sectionIndex());
    long from = s.value() - sec.addr();
    if (from < 0 || s.size() > Integer.MAX_VALUE || from + s.size() > sec.data().byteSize()) return null;
    return sec.data().asSlice(from, s.size()).toArray(ValueLayout.JAVA_BYTE);
  }

  private long fileOffset(long vaddr) {
    return FileOffsets.of(elf, vaddr);
  }

}
