package io.qpatch.trace;

import io.qpatch.arch.x86_64.Decoder;
import io.qpatch.arch.x86_64.EntryRoom;
import io.qpatch.arch.x86_64.Gpr;
import io.qpatch.arch.x86_64.Instruction;
import io.qpatch.arch.x86_64.Operand;
import io.qpatch.arch.x86_64.RelocationCheck;
import io.qpatch.arch.x86_64.Relocator;
import io.qpatch.arch.x86_64.X86Writer;
import java.util.ArrayList;
import java.util.List;

/**
 * One probe of the in-process backend, analysed before anything is written: where its
 * 5-byte jmp goes (always the function's entry), which instructions it displaces, and
 * its trampoline's code.
 *
 * <p>Go functions with a stack check are patched over the check itself ({@code cmp rsp,
 * [r14+0x10]; jbe}) and not at the branch after it: the Go compiler marks the check an
 * unsafe point for asynchronous preemption (cmd/internal/obj/x86/obj6.go, stacksplit:
 * StartUnsafePoint/EndUnsafePoint around it), so no goroutine can be parked by the
 * runtime with its pc inside the bytes we overwrite. The instructions after the branch
 * carry no such guarantee. Go functions without a check are nosplit (the compiler marks
 * small leaf functions nosplit itself), and nosplit functions are unsafe points too
 * (runtime/preempt.go, isAsyncSafePoint).
 *
 * @param site the plan's probe
 * @param index its number in the records
 * @param at where the jmp goes: the function's entry
 * @param original the 5 bytes the jmp replaces
 * @param prologue the stack check through its jcc; null for a record-first probe
 * @param code the function's bytes (record-first probes relocate from them)
 * @param displaced how many of them the trampoline runs instead (padding after a short
 *     function aside)
 * @param goid where the record block finds the goroutine id
 * @param redZone bytes of stack to step over before pushing (C's red zone)
 * @param captures the memory its records capture at the call
 */
record InProcSite(ProbeSite site, int index, long at, byte[] original, List<Instruction> prologue,
    byte[] code, int displaced, InProcCode.Goid goid, int redZone, InProcCaptures captures, Exit exit) {
  /**
   * A return this trampoline records before the function's {@code ret}, which it runs
   * itself: a return probe's own, or its entry's when the function runs straight from the
   * entry to that {@code ret} ({@link #withExit}).
   */
  record Exit(int index, InProcCaptures captures, Instruction ret) {}

  /** Offsets into runtime.g and runtime.m beyond this are not believed (both are < 2 KiB). */
  private static final long MAX_OFFSET = 4096;
  /** The jmp's length: e9 rel32. */
  static final int PATCH_BYTES = X86Writer.JMP_REL32_SIZE;

  /** Thrown (and turned into a refused site) when a function cannot be probed this way. */
  static final class Refusal extends Exception {
    Refusal(String reason) {
      super(reason, null, false, false);
    }
  }

  /**
   * Analyses {@code site} given the function's bytes as they are in memory now.
   *
   * @param plan the plan it belongs to: where goid and g are (Go)
   */
  static InProcSite of(ProbeSite site, int index, byte[] code, byte[] after, ProbePlan plan,
      InProcCaptures captures, Decoder decoder) throws Refusal {
    long goidOffset = plan.goidOffset();
    ProbePlan.GoThreadId threadId = believable(plan.threadId());
    if (site.kind() == ProbeSite.Kind.RETURN) return returnSite(site, index, code, after, plan, captures, decoder);
    TracedFunction fn = site.function();
    byte[] original = firstBytes(code, after);
    List<Instruction> all = decoder.decodeAll(code, fn.entry());
    if (site.displaced() instanceof Displaced.Jcc j && j.skipWhenTaken()) {
      List<Instruction> prologue = stackCheck(all, site.address());
      checkNoBranchInto(all, fn.entry(), prologue.getLast().end());
      return new InProcSite(site, index, fn.entry(), original, prologue, code,
          (int) (prologue.getLast().end() - fn.entry()), goidFrom(prologue, goidOffset, threadId), 0, captures, null);
    }
    if (site.address() != fn.entry()) throw new Refusal("its probe is not at the entry");
    int displaced = displaced(code, after, fn.entry(), decoder);
    RelocationCheck check = new Relocator(decoder).canRelocate(code, fn.entry(), displaced);
    if (!check.isOk()) throw new Refusal(check.refusal());
    for (Instruction insn : check.instructions()) {
      if (insn.isCall() && (insn != check.instructions().getLast() || InProcCode.callTarget(insn) == null)) {
        throw new Refusal("a call lies in its first 5 bytes that cannot be re-created with its own return address: " + insn);
      }
    }
    checkNoBranchInto(all, fn.entry(), fn.entry() + Math.max(PATCH_BYTES, check.consumed()));
    int redZone = fn.isGo() ? 0 : InProcCode.RED_ZONE;
    InProcCode.Goid goid = recordFirstGoid(fn, goidOffset, plan.gTlsOffset(), threadId);
    return new InProcSite(site, index, fn.entry(), original, null, code, displaced, goid, redZone, captures, null);
  }

  /**
   * A return probe: the jmp goes over the instructions that end at the function's {@code
   * ret} (at least 5 bytes: {@code add rsp, N; pop rbp; ret} in Go, {@code pop rbx; pop
   * rbp; ret} in C), and the trampoline runs them, records, then returns: the record sees
   * the registers as the {@code ret} does (the results, rsp at the return address), as a
   * return probe of the other backends. The run stays inside the {@code ret}'s block (it
   * never takes in a branch target but at its start, a call or a jump); a shorter block
   * ending the function ({@code xor eax, eax; ret} after another {@code ret}) takes the
   * alignment padding after it, as a short function's entry does ({@link EntryRoom}).
   * Refused otherwise, or when an instruction of the run cannot be moved.
   *
   * @param after the bytes that follow the function in memory
   */
  private static InProcSite returnSite(ProbeSite site, int index, byte[] code, byte[] after, ProbePlan plan,
      InProcCaptures captures, Decoder decoder) throws Refusal {
    TracedFunction fn = site.function();
    List<Instruction> all = decoder.decodeAll(code, fn.entry());
    int r = retAt(all, site.address());
    if (r < 0) throw new Refusal("its return probe is not at a ret of its code");
    Instruction ret = all.get(r);
    java.util.Set<Long> targets = branchTargets(all);
    int first = r;
    while (first > 0 && ret.end() - all.get(first).address() < PATCH_BYTES
        && !targets.contains(all.get(first).address()) && joins(all.get(first - 1))) {
      first--;
    }
    long at = all.get(first).address();
    byte[] run = EntryRoom.concat(java.util.Arrays.copyOfRange(code, (int) (at - fn.entry()), code.length), after);
    if (ret.end() - at < PATCH_BYTES && EntryRoom.ownBytes(decoder, run, at, PATCH_BYTES) != ret.end() - at) {
      throw new Refusal("the block of its ret at 0x" + Long.toHexString(ret.address()) + " is " + (ret.end() - at)
          + " bytes long and no padding follows it: the 5-byte jump does not fit");
    }
    checkNoBranchInto(all, at, Math.max(ret.end(), at + PATCH_BYTES));
    int before = (int) (ret.address() - at);
    if (before > 0) {
      RelocationCheck check = new Relocator(decoder).canRelocate(run, at, before);
      if (!check.isOk()) throw new Refusal(check.refusal());
    }
    int redZone = fn.isGo() ? 0 : InProcCode.RED_ZONE;
    InProcCode.Goid goid = recordFirstGoid(fn, plan.goidOffset(), plan.gTlsOffset(), believable(plan.threadId()));
    return new InProcSite(site, index, at, java.util.Arrays.copyOf(run, PATCH_BYTES), null, run, before, goid,
        redZone, captures, new Exit(index, captures, ret));
  }

  /** The index in {@code all} of the {@code ret} at {@code address}; -1 when there is none. */
  private static int retAt(List<Instruction> all, long address) {
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i).address() == address) return all.get(i).isRet() ? i : -1;
    }
    return -1;
  }

  /** Whether an instruction may be part of a return's run: it falls through to the next. */
  private static boolean joins(Instruction insn) {
    return !insn.isCall() && !insn.endsFlow() && !insn.isRelativeBranch() && !insn.isConditionalJump();
  }

  /**
   * A conditional jump out of the bytes [from, to) the entry's jmp stands for ({@code test
   * edi, edi; jne .Lmore; ret}): relocated into the trampoline it goes to the original code
   * there, and the run falls through to the {@code ret} when it is not taken.
   */
  private static boolean leavesFor(Instruction insn, long from, long to) {
    return insn.isConditionalJump() && insn.isRelativeBranch() && (insn.branchTarget() < from || insn.branchTarget() >= to);
  }

  private static java.util.Set<Long> branchTargets(List<Instruction> all) {
    java.util.Set<Long> out = new java.util.HashSet<>();
    for (Instruction insn : all) if (insn.isRelativeBranch()) out.add(insn.branchTarget());
    return out;
  }

  /**
   * This entry probe's trampoline making the return at {@code retSite} too, for a function
   * too short for a jmp of its own there ({@code lea eax, [rdi+rsi]; add eax, edx; ret}):
   * record the call, run the function up to its {@code ret}, record the return, return.
   * Null unless the function runs straight from its entry to that {@code ret} (no call or
   * jump before it but a conditional jump out of the bytes the jmp stands for, no branch
   * landing inside) and those instructions can be moved.
   */
  InProcSite withExit(ProbeSite retSite, int exitIndex, InProcCaptures exitCaptures, Decoder decoder) {
    if (prologue != null || exit != null || site.kind() != ProbeSite.Kind.CALL) return null;
    List<Instruction> all = decoder.decodeAll(code, at);
    int r = retAt(all, retSite.address());
    if (r < 0) return null;
    Instruction ret = all.get(r);
    long end = Math.max(at + PATCH_BYTES, ret.end());
    if (!all.subList(0, r).stream().allMatch(i -> joins(i) || leavesFor(i, at, end))) return null;
    try {
      checkNoBranchInto(all, at, ret.end());
    } catch (Refusal e) {
      return null;
    }
    int before = (int) (ret.address() - at);
    if (before > 0 && !new Relocator(decoder).canRelocate(code, at, before).isOk()) return null;
    return new InProcSite(site, index, at, original, null, code, before, goid, redZone, captures,
        new Exit(exitIndex, exitCaptures, ret));
  }

  /** The bytes of the function the patched jmp stands for: no other probe's may overlap them. */
  long end() {
    return exit != null ? Math.max(at + PATCH_BYTES, exit.ret().end()) : at + Math.max(PATCH_BYTES, displaced);
  }

  /**
   * The 5 bytes the jump replaces, from {@code code} and then {@code after} (the bytes
   * that follow the function).
   */
  private static byte[] firstBytes(byte[] code, byte[] after) {
    byte[] out = java.util.Arrays.copyOf(code, PATCH_BYTES);
    if (code.length < PATCH_BYTES) System.arraycopy(after, 0, out, code.length, Math.min(after.length, PATCH_BYTES - code.length));
    return out;
  }

  /**
   * How many bytes of the function the trampoline runs in its place: 5, or fewer when
   * the function ends before (INCQ AX; RET) and alignment padding follows ({@link EntryRoom}).
   */
  private static int displaced(byte[] code, byte[] after, long entry, Decoder decoder) throws Refusal {
    int own = EntryRoom.ownBytes(decoder, EntryRoom.concat(code, after), entry, PATCH_BYTES);
    if (own < 0) throw new Refusal("it is shorter than the 5-byte jump and not followed by padding");
    return own;
  }

  /** The instructions from the entry through the jcc at {@code branch}, each copyable as is. */
  private static List<Instruction> stackCheck(List<Instruction> all, long branch) throws Refusal {
    List<Instruction> out = new ArrayList<>();
    for (Instruction insn : all) {
      if (insn.address() > branch) break;
      if (insn.isConditionalJump() ? !InProcCode.isJcc(insn)
          : insn.isRelativeBranch() || insn.isCall() || insn.hasRipRelativeOperand()) {
        throw new Refusal("its stack check has an instruction that cannot be copied: " + insn);
      }
      out.add(insn);
    }
    if (out.isEmpty() || out.getLast().address() != branch || !out.getLast().isConditionalJump()) {
      throw new Refusal("its stack check does not decode up to the branch");
    }
    if (out.getLast().end() - out.getFirst().address() < PATCH_BYTES) {
      throw new Refusal("its stack check is shorter than the 5-byte jump");
    }
    return out;
  }

  /**
   * A branch anywhere in the function into the bytes the jump covers, other than to the
   * entry itself (which enters the probe again, as Go's morestack path does), would land
   * in the middle of the jmp.
   */
  private static void checkNoBranchInto(List<Instruction> all, long entry, long end) throws Refusal {
    for (Instruction insn : all) {
      if (!insn.isRelativeBranch()) continue;
      long t = insn.branchTarget();
      if (t > entry && t < end) {
        throw new Refusal(String.format("the branch at 0x%x targets the displaced bytes (0x%x)", insn.address(), t));
      }
    }
  }

  /**
   * g is the base register of the compare's memory operand ({@code cmp rsp, [g+0x10]}):
   * R14 under ABIInternal, the register loaded from TLS in ABI0 code.
   */
  private static InProcCode.Goid goidFrom(List<Instruction> prologue, long goidOffset,
      ProbePlan.GoThreadId threadId) {
    if (goidOffset < 0 || goidOffset > MAX_OFFSET || prologue.size() < 2) return InProcCode.Goid.NONE;
    Instruction cmp = prologue.get(prologue.size() - 2);
    for (Operand op : cmp.operands()) {
      if (op.mem() == null || op.mem().base().isEmpty() || !op.mem().index().isEmpty()) continue;
      Gpr g = Gpr.from64(op.mem().base());
      if (g != null && g != Gpr.RSP) return new InProcCode.Goid(g, goidOffset, threadId);
    }
    return InProcCode.Goid.NONE;
  }

  /**
   * A probe without a stack check to show where g is: R14 in ABIInternal code, the TLS slot
   * in ABI0 code (both exact at the entry: {@link io.qpatch.trace.go.GEntry}); nothing
   * when the function's g is unknown or the program is not Go.
   */
  private static InProcCode.Goid recordFirstGoid(TracedFunction fn, long goidOffset, long tlsOffset,
      ProbePlan.GoThreadId threadId) {
    if (!fn.isGo() || goidOffset < 0 || goidOffset > MAX_OFFSET) return InProcCode.Goid.NONE;
    return switch (fn.g()) {
      case REGISTER -> new InProcCode.Goid(Gpr.R14, goidOffset, threadId);
      case TLS -> tlsOffset == ProbePlan.NO_TLS || Math.abs(tlsOffset) > MAX_OFFSET ? InProcCode.Goid.NONE
          : InProcCode.Goid.fromTls(tlsOffset, goidOffset, threadId);
      case UNKNOWN -> InProcCode.Goid.NONE;
    };
  }

  /** {@code threadId} when its offsets lie inside runtime.g and runtime.m, else null. */
  private static ProbePlan.GoThreadId believable(ProbePlan.GoThreadId threadId) {
    if (threadId == null || threadId.gToM() < 0 || threadId.gToM() > MAX_OFFSET
        || threadId.mToProcid() < 0 || threadId.mToProcid() > MAX_OFFSET) {
      return null;
    }
    return threadId;
  }

  /** Writes this probe's trampoline at {@code out.pc()}. */
  void emit(X86Writer out, InProcCode.Ring ring, Decoder decoder) {
    if (exit != null) {
      if (site.kind() == ProbeSite.Kind.CALL) InProcCode.recordFirstTrampoline(out, index, goid, redZone, ring, captures);
      if (displaced > 0) new Relocator(decoder).relocateWithoutReturn(code, at, displaced, out);
      InProcCode.recordFirstTrampoline(out, exit.index(), goid, redZone, ring, exit.captures());
      out.putBytes(exit.ret().bytes());
    } else if (prologue != null) {
      InProcCode.stackCheckTrampoline(out, prologue, index, goid, ring, captures);
    } else {
      InProcCode.recordFirstTrampoline(out, index, goid, redZone, ring, captures);
      Instruction last = lastDisplaced(decoder);
      if (!last.isCall()) {
        new Relocator(decoder).relocate(code, at, displaced, out);
        return;
      }
      int before = (int) (last.address() - at);
      if (before > 0) new Relocator(decoder).relocateWithoutReturn(code, at, before, out);
      InProcCode.putCall(out, last);
    }
  }

  private Instruction lastDisplaced(Decoder decoder) {
    return decoder.decodeAtLeast(code, at, displaced).getLast();
  }

  /** An upper bound of the trampoline's size, from a trial emission near the function (its producer waiting, direct copies too: the longer code). */
  int maxSize(Decoder decoder, InProcRing.Shape shape) {
    X86Writer trial = new X86Writer(at);
    emit(trial, InProcCode.Ring.at(at + 0x10000, at + 0x20000, 1024, shape, 1).waitingForReader()
        .withPermanent(new InProcCaptures.Span(at, at + 0x10000)), decoder);
    return trial.offset() + 32;
  }
}
