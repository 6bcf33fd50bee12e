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

  CPlanner(ElfFile elf, long bias, Decoder decoder) {
    this.elf = elf;
    this.bias = bias;
    this.decoder = decoder;
  }

  ProbePlan plan(String path, Selection selection) {
    List<Symbol> symbols = functionSymbols();
    List<String> names = symbols.stream().map(Symbol::name).toList();
    if (selection.demangle()) names = Demangler.demangle(names);
    List<TracedFunction> functions = new ArrayList<>();
    List<ProbeSite> sites = new ArrayList<>();
    Map<String, String> skipped = new LinkedHashMap<>();
    for (int i = 0; i < symbols.size(); i++) {
      if (!selection.accepts(names.get(i))) continue;
      Symbol s = symbols.get(i);
      TracedFunction fn =
          new TracedFunction(functions.size(), names.get(i), s.value() + bias, s.size(), Abi.SYSV, GEntry.UNKNOWN);
      String refusal = addSites(fn, s, selection.returns(), sites);
      if (refusal != null) skipped.put(fn.name(), refusal);
      else functions.add(fn);
    }
    String what = "C/C++ executable " + path + ": " + functions.size() + " functions";
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

  /** Defined functions with a size in executable sections, one per address. */
  private List<Symbol> functionSymbols() {
    Optional<SymbolTable> table = elf.symtab().or(elf::dynsym);
    if (table.isEmpty()) return List.of();
    Map<Long, Symbol> byAddress = new TreeMap<>();
    for (Symbol s : table.get().symbols()) {
      if (!s.isFunction() || !s.isDefined() || s.size() == 0 || s.isAbsolute()) continue;
      if (s.sectionIndex() >= Symbol.SHN_LORESERVE) continue;
      if (!elf.section(s.sectionIndex()).isExecutable()) continue;
      byAddress.merge(s.value(), s, CPlanner::preferred);
    }
    return byAddress.values().stream().sorted(Comparator.comparingLong(Symbol::value)).toList();
  }

  /** Of two names for one address, the global one (an alias's local twin is noise). */
  private static Symbol preferred(Symbol a, Symbol b) {
    return a.isLocal() && !b.isLocal() ? b : a;
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
