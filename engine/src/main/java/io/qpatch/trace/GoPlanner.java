package io.qpatch.trace;

import io.qpatch.arch.x86_64.Instruction;
import io.qpatch.elf.ElfFile;
import io.qpatch.error.QpatchException;
import io.qpatch.trace.go.GEntry;
import io.qpatch.trace.go.GoBinary;
import io.qpatch.trace.go.GoFunction;
import io.qpatch.trace.go.GoParam;
import io.qpatch.trace.go.StackCheck;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Plans the probes of a Go executable: every function of its .gopclntab (names survive
 * stripping), the runtime's included, minus {@link GoDenyList}.
 *
 * <p>A function with a stack check is probed at the conditional branch after the
 * compare, not at its entry: the ptrace backend emulates a jcc from RFLAGS and the
 * kernel's uprobes emulate it too (no single step), and when the branch goes to
 * morestack the hit is not reported, because the function restarts from its entry once
 * the stack has grown and is reported then, exactly once. A function without one
 * (nosplit) is probed at its entry instruction.
 */
final class GoPlanner {
  private final GoBinary go;
  private final ElfFile elf;
  private final long bias;

  GoPlanner(GoBinary go, long bias) {
    this.go = go;
    this.elf = go.elf();
    this.bias = bias;
  }

  /**
   * The argument decoder for the plan's functions, from DWARF; null when the binary has
   * none (built with -ldflags=-w): arguments then stay raw.
   */
  ArgDecoder argDecoder(ProbePlan plan) {
    if (go.dwarf().isEmpty()) return null;
    Map<Integer, ArgDecoder.Signature> params = new java.util.HashMap<>();
    Map<String, GoFunction> byName = new java.util.HashMap<>();
    for (GoFunction f : go.functions()) byName.putIfAbsent(f.name(), f);
    for (TracedFunction fn : plan.functions()) {
      GoFunction f = byName.get(fn.name());
      if (f == null) continue;
      try {
        go.params(f).ifPresent(ps -> params.put(fn.id(), new ArgDecoder.Signature(
            ps.stream().filter(p -> !p.result()).map(GoPlanner::spec).toList(),
            ps.stream().filter(GoParam::result).map(GoPlanner::spec).toList())));
      } catch (QpatchException e) {
        // DWARF that does not describe this function well: its arguments stay raw
      }
    }
    Map<Long, String> typeNames = new java.util.HashMap<>();
    java.util.OptionalLong types = go.typesBase();
    if (types.isPresent()) {
      go.dwarf().get().runtimeTypeNames().forEach((off, name) -> typeNames.put(types.getAsLong() + off + bias, name));
    }
    return new ArgDecoder(params, typeNames);
  }

  private static ValueSpec spec(GoParam p) {
    return new ValueSpec(p.name(), ValueShape.of(p.type(), true), p.location(), false);
  }

  ProbePlan plan(String path, Selection selection) {
    long goidOffset = go.goidOffset().offset();
    List<TracedFunction> functions = new ArrayList<>();
    List<ProbeSite> sites = new ArrayList<>();
    Map<String, String> skipped = new LinkedHashMap<>();
    for (GoFunction f : go.functions()) {
      if (!selection.accepts(f.name()) || f.size() <= 0) continue;
      if (GoDenyList.denied(f.name())) {
        skipped.put(f.name(), "on the deny-list (runtime code that must not be probed)");
        continue;
      }
      TracedFunction fn = new TracedFunction(functions.size(), f.name(), f.entry() + bias, f.size(), Abi.GO_REGS,
          gAtEntry(f));
      String refusal = addSites(f, fn, selection.returns(), sites);
      if (refusal != null) skipped.put(f.name(), refusal);
      else functions.add(fn);
    }
    String what = "Go " + go.version() + " executable " + path + ": " + functions.size() + " functions";
    long tls = go.gTlsOffset().orElse(ProbePlan.NO_TLS);
    return new ProbePlan(path, bias, functions, sites, skipped, goidOffset, tls, what, null, threadId());
  }

  /**
   * Where {@code f} finds g. runtime.settls is the one function that runs before the thread
   * pointer is set (runtime/asm_amd64.s, rt0_go: it sets it), so g is nowhere there.
   */
  private GEntry gAtEntry(GoFunction f) {
    if (f.name().equals("runtime.settls")) return GEntry.UNKNOWN;
    try {
      return go.gAtEntry(f);
    } catch (QpatchException e) {
      return GEntry.UNKNOWN; // its first bytes do not decode: it will be refused below
    }
  }

  /** From DWARF only: a wrong offset here would be dereferenced by the in-process probes. */
  private ProbePlan.GoThreadId threadId() {
    try {
      if (go.dwarf().isEmpty()) return null;
      java.util.OptionalLong m = go.dwarf().get().memberOffset("runtime.g", "m");
      java.util.OptionalLong procid = go.dwarf().get().memberOffset("runtime.m", "procid");
      if (m.isEmpty() || procid.isEmpty()) return null;
      return new ProbePlan.GoThreadId(m.getAsLong(), procid.getAsLong());
    } catch (QpatchException e) {
      return null; // DWARF that does not describe them well: the probes ask the kernel
    }
  }

  private String addSites(GoFunction f, TracedFunction fn, boolean returns, List<ProbeSite> out) {
    StackCheck check;
    byte[] code;
    try {
      check = go.stackCheck(f);
      code = go.code(f);
    } catch (QpatchException e) {
      return e.getMessage();
    }
    ProbeSite entry = entrySite(check, fn, code);
    if (entry == null) return "its first instruction cannot be carried out without a single step";
    out.add(entry);
    if (returns) addReturns(f, fn, code, entry.address(), out);
    return null;
  }

  private ProbeSite entrySite(StackCheck check, TracedFunction fn, byte[] code) {
    if (check.hasCheck() && check.branch().isPresent()) {
      Instruction jcc = check.branch().get();
      if (jcc.isRelativeBranch() && (jcc.length() == 2 || jcc.length() == 6)) {
        Displaced how = new Displaced.Jcc(Emulation.jccCond(jcc.bytes()), jcc.branchTarget() + bias,
            jcc.end() + bias, true);
        return new ProbeSite(jcc.address() + bias, FileOffsets.of(elf, jcc.address()),
            ProbeSite.Kind.CALL, fn, how);
      }
    }
    Instruction first = check.entry();
    Displaced how = Emulation.of(relocated(first), code, fn.entry());
    if (how == null) return null;
    return new ProbeSite(fn.entry(), FileOffsets.of(elf, first.address()), ProbeSite.Kind.CALL, fn, how);
  }

  /** The instruction as it sits at run time (PIE Go binaries are loaded at a bias). */
  private Instruction relocated(Instruction insn) {
    if (bias == 0) return insn;
    return io.qpatch.arch.x86_64.Decoder.shared().decode(insn.bytes(), insn.address() + bias).orElseThrow();
  }

  private void addReturns(GoFunction f, TracedFunction fn, byte[] code, long entryProbe, List<ProbeSite> out) {
    for (long ret : go.returnSites(f)) {
      long at = ret + bias;
      if (at == entryProbe) continue;
      int off = (int) (ret - f.entry());
      Displaced how = (code[off] & 0xff) == 0xc3
          ? new Displaced.Ret()
          : new Displaced.Relocated(java.util.Arrays.copyOfRange(code, off, code.length), at);
      out.add(new ProbeSite(at, FileOffsets.of(elf, ret), ProbeSite.Kind.RETURN, fn, how));
    }
  }
}
