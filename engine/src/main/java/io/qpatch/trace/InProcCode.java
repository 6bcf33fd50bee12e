package io.qpatch.trace;

import io.qpatch.arch.x86_64.Cond;
import io.qpatch.arch.x86_64.Gpr;
import io.qpatch.arch.x86_64.Instruction;
import io.qpatch.arch.x86_64.X86Writer;
import io.qpatch.sys.Syscall;
import java.util.List;

/**
 * Emits the code of one in-process probe: a trampoline that the 5-byte {@code jmp} at the
 * probed function's entry leads to. It runs the displaced instructions and, between them
 * or before them, the record block: it saves the registers it uses, reserves a ring slot,
 * stores the sampled registers, the goroutine id, the thread id and the time, publishes
 * the slot, and restores everything, flags included (a displaced jcc needs the flags of
 * the compare before it).
 *
 * <p>Encodings from the Intel SDM vol. 2; the byte-exact test (InProcCodeTest) shows each
 * instruction with its disassembly. Nothing here calls: a return address pointing into a
 * trampoline must never be on a stack (Go's unwinder and C++ unwinding see only real
 * code).
 */
final class InProcCode {
  /** psABI 3.2.2: 128 bytes below rsp that a C leaf function may use without moving rsp. */
  static final int RED_ZONE = 128;
  /** Registers the record block pushes after the flags, in push order. */
  private static final Gpr[] SAVED = {Gpr.RAX, Gpr.RCX, Gpr.RDX, Gpr.RSI, Gpr.RDI, Gpr.R11};
  /** Bytes the record block pushes: the flags and {@link #SAVED}. */
  static final int STACK_BYTES = 8 * (1 + SAVED.length);

  private InProcCode() {}

  /**
   * Where a trampoline finds the ring in the target, and the byte that arms it (non-zero
   * in the target itself). A producer of a ring that {@code waitsForReader} waits, after
   * publishing its record, until the reader has released it ({@link InProcRing#release}),
   * as long as the reader's deadline is ahead: the loader's gate ({@link LoaderGate}) is
   * such a ring.
   */
  record Ring(long armed, long head, long tail, long lost, long scratch, long deadline, long slots, long capacity,
      InProcRing.Shape shape, int pid, boolean waitsForReader, InProcCaptures.Span permanent) {
    /** Records of {@link InProcRing#RECORD_BYTES}, nothing captured. */
    static Ring at(long armed, long headerAddress, long capacity) {
      return at(armed, headerAddress, capacity, InProcRing.Shape.PLAIN, 0);
    }

    /**
     * Records of {@code shape} (XMM0-15 stored too when it says so) in process {@code pid}
     * (whose memory the captures read).
     */
    static Ring at(long armed, long headerAddress, long capacity, InProcRing.Shape shape, int pid) {
      return new Ring(armed, headerAddress + InProcRing.offset(InProcRing.HEADER, "head"),
          headerAddress + InProcRing.offset(InProcRing.HEADER, "tail"),
          headerAddress + InProcRing.offset(InProcRing.HEADER, "lost"),
          headerAddress + InProcRing.offset(InProcRing.HEADER, "scratch"),
          headerAddress + InProcRing.offset(InProcRing.HEADER, "deadline"),
          headerAddress + InProcRing.HEADER_BYTES, capacity, shape, pid, false, InProcCaptures.Span.NONE);
    }

    /** The same ring, its producers waiting for the reader. */
    Ring waitingForReader() {
      return new Ring(armed, head, tail, lost, scratch, deadline, slots, capacity, shape, pid, true, permanent);
    }

    /** The same ring, its producers' captures copying memory in {@code span} directly ({@link InProcCaptures#emit}). */
    Ring withPermanent(InProcCaptures.Span span) {
      return new Ring(armed, head, tail, lost, scratch, deadline, slots, capacity, shape, pid, waitsForReader, span);
    }
  }

  /**
   * What the record block reads through g, the register {@code g} (its value at the
   * probe) or, when {@code g} is null and {@code tlsOffset} is not {@link ProbePlan#NO_TLS},
   * the TLS slot {@code fs:[tlsOffset]} (0 on a thread without Go: then nothing is read
   * through it): the goroutine id at {@code [g + offset]}, and the thread id at {@code
   * [[g + threadId.gToM] + threadId.mToProcid]} unless {@code threadId} is null (then, or
   * while procid is still 0, it asks the kernel: gettid). {@link #NONE}: nothing is read.
   */
  record Goid(Gpr g, long tlsOffset, long offset, ProbePlan.GoThreadId threadId) {
    static final Goid NONE = new Goid(null, ProbePlan.NO_TLS, -1, null);

    /** g in register {@code g}. */
    Goid(Gpr g, long offset, ProbePlan.GoThreadId threadId) {
      this(g, ProbePlan.NO_TLS, offset, threadId);
    }

    /** g in the TLS slot at {@code tlsOffset} from the fs base. */
    static Goid fromTls(long tlsOffset, long offset, ProbePlan.GoThreadId threadId) {
      return new Goid(null, tlsOffset, offset, threadId);
    }

    boolean reads() {
      return g != null || fromTls();
    }

    boolean fromTls() {
      return g == null && tlsOffset != ProbePlan.NO_TLS;
    }
  }

  /**
   * A Go function with a stack check: the prologue through the check's jcc, the jcc
   * aimed at the original morestack block, then the record block (so a call that must
   * grow its stack first is recorded once, when it restarts), then a jump back past the
   * prologue. No red zone: Go has none, and the check just passed guarantees the stack
   * has room (runtime/stack.go: StackGuard).
   */
  static void stackCheckTrampoline(X86Writer out, List<Instruction> prologue, int site, Goid goid, Ring ring,
      InProcCaptures captures) {
    for (Instruction insn : prologue) {
      if (insn.isConditionalJump()) out.putJccRel32(jccCond(insn), insn.branchTarget());
      else out.putBytes(insn.bytes());
    }
    putRecord(out, site, goid, 0, ring, captures);
    out.putJmpAddress(prologue.getLast().end());
  }

  /**
   * Any other probe: the record block first, then the displaced instructions {@code
   * relocated} (already written for a pc right after the record block). C functions get
   * {@code redZone} bytes stepped over first.
   */
  static void recordFirstTrampoline(X86Writer out, int site, Goid goid, int redZone, Ring ring,
      InProcCaptures captures) {
    if (redZone > 0) putLeaRspRsp(out, -redZone);
    putRecord(out, site, goid, redZone, ring, captures);
    if (redZone > 0) putLeaRspRsp(out, redZone);
  }

  /**
   * A call among the displaced instructions (the last: its return address lies past the
   * jmp, in the original code) is re-created so that the callee returns there, never
   * into the trampoline: push the original return address, then jump where the call
   * went. Without a scratch register or flags: {@code lea rsp, [rsp-8]} and two 32-bit
   * stores build the word (the address may not fit a sign-extended push imm32).
   */
  static void putCall(X86Writer out, Instruction call) {
    putLeaRspRsp(out, -8);
    long ret = call.end();
    out.putBytes((byte) 0xc7, (byte) 0x04, (byte) 0x24); // mov dword [rsp], imm32
    out.putS32((int) ret);
    out.putBytes((byte) 0xc7, (byte) 0x44, (byte) 0x24, (byte) 0x04); // mov dword [rsp+4], imm32
    out.putS32((int) (ret >>> 32));
    CallTarget target = callTarget(call);
    if (!target.throughMemory()) {
      out.putJmpAddress(target.address());
      return;
    }
    long disp = target.address() - (out.pc() + 6);
    if (disp != (int) disp) throw new IllegalArgumentException("the call's pointer is out of rel32 reach of the trampoline");
    out.putBytes((byte) 0xff, (byte) 0x25); // jmp qword [rip+disp32]
    out.putS32((int) disp);
  }

  /** Where a call goes: {@code address}, or the pointer stored there when {@code throughMemory}. */
  record CallTarget(long address, boolean throughMemory) {}

  /**
   * What {@link #putCall} can re-create: {@code call rel32}, and {@code call qword
   * [rip+disp32]} (ff 15: a -fno-plt call through the GOT); null for any other call.
   */
  static CallTarget callTarget(Instruction call) {
    if (!call.isCall()) return null;
    if (call.isRelativeBranch()) return new CallTarget(call.branchTarget(), false);
    byte[] b = call.bytes();
    boolean ripSlot = b.length == 6 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0x15;
    return ripSlot ? new CallTarget(call.end() + call.ripDisplacement(), true) : null;
  }

  static boolean isJcc(Instruction insn) {
    byte[] b = insn.bytes();
    int b0 = b[0] & 0xff;
    return b.length == 2 && b0 >= 0x70 && b0 <= 0x7f
        || b.length == 6 && b0 == 0x0f && (b[1] & 0xf0) == 0x80;
  }

  static Cond jccCond(Instruction insn) {
    return Emulation.jccCond(insn.bytes());
  }

  /** {@code e9 rel32}: the 5 bytes written over the probed function's entry. */
  static byte[] jumpTo(long from, long trampoline) {
    X86Writer w = new X86Writer(from);
    w.putJmpRel32(trampoline);
    return w.bytes();
  }

  // ---- the record block ---------------------------------------------------------------

  /**
   * pushfq; skip everything when the armed byte is 0 (in a forked child: see {@link
   * InProcArea}); save registers, record (and the memory {@code captures} names), restore;
   * popfq.
   */
  private static void putRecord(X86Writer out, int site, Goid goid, int stackAbove, Ring ring,
      InProcCaptures captures) {
    out.putU8(0x9c); // pushfq
    putRipImm(out, ring.armed(), 1, 0x80, 0x3d); // cmp byte [rip+armed], 0
    out.putU8(0);
    X86Writer body = new X86Writer(out.pc() + 6);
    for (Gpr r : SAVED) body.putPushReg(r);
    putReserve(body, ring);
    putStoreLiveRegisters(body);
    putStoreSavedRegisters(body, stackAbove);
    if (ring.shape().xmm()) putStoreXmm(body);
    putStoreGoid(body, goid);
    putStoreSiteTidTime(body, site, goid);
    captures.emit(body, stackAbove, ring.pid(), ring.permanent());
    body.putBytes((byte) 0x48, (byte) 0x8d, (byte) 0x47, (byte) 0x01); // lea rax, [rdi+1]
    putStore(body, Gpr.RAX, "seq"); // last: publishes the record
    if (ring.waitsForReader()) putWaitUntilRead(body, ring);
    for (int i = SAVED.length - 1; i >= 0; i--) body.putPopReg(SAVED[i]);
    out.putJccRel32(Cond.E, body.pc()); // je over the body, to the popfq
    out.putBytes(body.bytes());
    out.putU8(0x9d); // popfq
  }

  /**
   * Leaves the slot's address in rsi and the ticket in rdi. When the ring is full it
   * waits for the reader while the reader's deadline is ahead of the time-stamp counter;
   * past it, counts a lost event and points rsi at the scratch record (the stores that
   * follow are harmless there, and the code stays straight-line). No ticket is taken
   * before there is room, so a waiter that gives up leaves no hole in the ring.
   */
  private static void putReserve(X86Writer out, Ring ring) {
    X86Writer.Label retry = out.newLabel();
    X86Writer.Label full = out.newLabel();
    X86Writer.Label ready = out.newLabel();
    X86Writer.Label lost = out.newLabel();
    putRip(out, ring.head(), 0x48, 0x8b, 0x05); // mov rax, [rip+head]
    out.putLabel(retry);
    out.putBytes((byte) 0x48, (byte) 0x89, (byte) 0xc2); // mov rdx, rax
    putRip(out, ring.tail(), 0x48, 0x2b, 0x15); // sub rdx, [rip+tail]
    out.putBytes((byte) 0x48, (byte) 0x81, (byte) 0xfa); // cmp rdx, imm32
    out.putS32((int) ring.capacity());
    out.putJccShortLabel(Cond.AE, full);
    out.putBytes((byte) 0x48, (byte) 0x8d, (byte) 0x50, (byte) 0x01); // lea rdx, [rax+1]
    putRip(out, ring.head(), 0xf0, 0x48, 0x0f, 0xb1, 0x15); // lock cmpxchg [rip+head], rdx
    out.putJccShortLabel(Cond.NE, retry); // rax holds the new head: try again
    out.putBytes((byte) 0x48, (byte) 0x89, (byte) 0xc7); // mov rdi, rax
    out.putU8(0x25); // and eax, capacity-1 (zero-extends into rax)
    out.putS32((int) (ring.capacity() - 1));
    out.putBytes((byte) 0x48, (byte) 0xc1, (byte) 0xe0, (byte) Long.numberOfTrailingZeros(ring.shape().stride())); // shl rax, log2(stride)
    putRip(out, ring.slots(), 0x48, 0x8d, 0x35); // lea rsi, [rip+slots]
    out.putBytes((byte) 0x48, (byte) 0x01, (byte) 0xc6); // add rsi, rax
    out.putJmpShortLabel(ready);
    out.putLabel(full);
    putWaitForReader(out, ring, retry, lost);
    out.putLabel(lost);
    putRip(out, ring.lost(), 0xf0, 0x48, 0xff, 0x05); // lock inc qword [rip+lost]
    putRip(out, ring.scratch(), 0x48, 0x8d, 0x35); // lea rsi, [rip+scratch]
    out.putLabel(ready);
  }

  /**
   * The ring is full: on to {@code lost} once the counter has reached the deadline
   * (unsigned, so 0 means never wait); else one {@code pause} (the spin-wait hint, SDM
   * vol. 2B) and back to {@code retry} with head reloaded. Uses only rax and rdx, which
   * are saved, and the flags, which pushfq saved.
   */
  private static void putWaitForReader(X86Writer out, Ring ring, X86Writer.Label retry, X86Writer.Label lost) {
    out.putBytes((byte) 0x0f, (byte) 0x31); // rdtsc: edx:eax
    out.putBytes((byte) 0x48, (byte) 0xc1, (byte) 0xe2, (byte) 0x20); // shl rdx, 32
    out.putBytes((byte) 0x48, (byte) 0x09, (byte) 0xd0); // or rax, rdx
    putRip(out, ring.deadline(), 0x48, 0x3b, 0x05); // cmp rax, [rip+deadline]
    out.putJccShortLabel(Cond.AE, lost);
    out.putBytes((byte) 0xf3, (byte) 0x90); // pause
    putRip(out, ring.head(), 0x48, 0x8b, 0x05); // mov rax, [rip+head]
    out.putJmpShortLabel(retry);
  }

  /**
   * After publishing ticket rdi: until the reader's tail has passed it, or the counter has
   * reached the reader's deadline, yield the CPU (sched_yield) and look again. Uses rax,
   * rdx, and rcx and r11 (the syscall's), all saved, and the flags, which pushfq saved.
   */
  private static void putWaitUntilRead(X86Writer out, InProcCode.Ring ring) {
    X86Writer.Label look = out.newLabel();
    X86Writer.Label done = out.newLabel();
    out.putLabel(look);
    putRip(out, ring.tail(), 0x48, 0x8b, 0x05); // mov rax, [rip+tail]
    out.putBytes((byte) 0x48, (byte) 0x39, (byte) 0xf8); // cmp rax, rdi
    out.putJccShortLabel(Cond.A, done); // tail > ticket: read and released
    out.putBytes((byte) 0x0f, (byte) 0x31); // rdtsc: edx:eax
    out.putBytes((byte) 0x48, (byte) 0xc1, (byte) 0xe2, (byte) 0x20); // shl rdx, 32
    out.putBytes((byte) 0x48, (byte) 0x09, (byte) 0xd0); // or rax, rdx
    putRip(out, ring.deadline(), 0x48, 0x3b, 0x05); // cmp rax, [rip+deadline]
    out.putJccShortLabel(Cond.AE, done);
    out.putMovReg32Imm32(Gpr.RAX, Syscall.SCHED_YIELD);
    out.putBytes((byte) 0x0f, (byte) 0x05); // syscall (clobbers rcx, r11)
    out.putJmpShortLabel(look);
    out.putLabel(done);
  }

  /** Registers the block has not touched go straight to the record. */
  private static void putStoreLiveRegisters(X86Writer out) {
    putStore(out, Gpr.RBX, "bx");
    putStore(out, Gpr.R8, "r8");
    putStore(out, Gpr.R9, "r9");
    putStore(out, Gpr.R10, "r10");
    putStore(out, Gpr.R14, "r14");
  }

  /**
   * The low 64 bits of XMM0-15 (floats and doubles as the ABIs pass them): {@code movq
   * [rsi+disp32], xmmN}, 66 [REX.R] 0F D6 /r (SDM vol. 2B, MOVQ, "MOVQ xmm2/m64, xmm1").
   */
  private static void putStoreXmm(X86Writer out) {
    long x0 = InProcRing.offset(InProcRing.RECORD_WITH_XMM, "x0");
    for (int n = 0; n < SampleRegs.XMM_COUNT; n++) {
      out.putU8(0x66);
      if (n >= 8) out.putU8(0x44);
      out.putBytes((byte) 0x0f, (byte) 0xd6, (byte) (0x86 | (n & 7) << 3));
      out.putS32((int) (x0 + 8L * n));
    }
  }

  /** The saved ones from the stack, and rsp as it was at the probe. */
  private static void putStoreSavedRegisters(X86Writer out, int stackAbove) {
    String[] fields = {"ax", "cx", "dx", "si", "di", "r11"};
    for (int i = 0; i < SAVED.length; i++) {
      putLoadRaxFromStack(out, savedSlot(SAVED[i]));
      putStore(out, Gpr.RAX, fields[i]);
    }
    out.putBytes((byte) 0x48, (byte) 0x8d, (byte) 0x84, (byte) 0x24); // lea rax, [rsp+disp32]
    out.putS32(STACK_BYTES + stackAbove);
    putStore(out, Gpr.RAX, "sp");
  }

  private static void putStoreGoid(X86Writer out, Goid goid) {
    X86Writer.Label none = out.newLabel();
    X86Writer.Label done = out.newLabel();
    if (goid.reads()) {
      putLoadG(out, goid, none);
      putLoadRaxAtRax(out, goid.offset());
      putStore(out, Gpr.RAX, "goid");
      if (!goid.fromTls()) return;
      out.putJmpShortLabel(done);
    }
    out.putLabel(none);
    out.putBytes((byte) 0x48, (byte) 0xc7, (byte) 0x46, (byte) disp("goid")); // mov qword [rsi+goid], imm32
    out.putS32((int) InProcRing.GOID_NOT_READ);
    out.putLabel(done);
  }

  /**
   * rax = g as it was at the probe: from its saved copy, from the register itself, or from
   * TLS; a TLS slot holding 0 (a thread that is not Go's) goes to {@code none}.
   */
  private static void putLoadG(X86Writer out, Goid goid, X86Writer.Label none) {
    if (goid.fromTls()) {
      out.putBytes((byte) 0x64, (byte) 0x48, (byte) 0x8b, (byte) 0x04, (byte) 0x25); // mov rax, fs:[disp32]
      out.putS32((int) goid.tlsOffset());
      out.putBytes((byte) 0x48, (byte) 0x85, (byte) 0xc0); // test rax, rax
      out.putJccShortLabel(Cond.E, none);
      return;
    }
    Gpr g = goid.g();
    int slot = savedSlot(g);
    if (slot >= 0) {
      putLoadRaxFromStack(out, slot);
    } else {
      // mov rax, g: REX.W (+R for r8-r15) 89 /r, ModRM 11 g rax
      out.putBytes((byte) (0x48 | (g.isExtended() ? 4 : 0)), (byte) 0x89, (byte) (0xc0 | (g.code() & 7) << 3));
    }
  }

  /** mov rax, [rax+disp32]: 48 8b 80 disp32. */
  private static void putLoadRaxAtRax(X86Writer out, long offset) {
    out.putBytes((byte) 0x48, (byte) 0x8b, (byte) 0x80);
    out.putS32((int) offset);
  }

  private static void putStoreSiteTidTime(X86Writer out, int site, Goid goid) {
    out.putBytes((byte) 0xc7, (byte) 0x46, (byte) disp("site")); // mov dword [rsi+site], imm32
    out.putS32(site);
    X86Writer.Label known = out.newLabel();
    X86Writer.Label ask = out.newLabel();
    if (goid.reads() && goid.threadId() != null) {
      putLoadG(out, goid, ask);
      putLoadRaxAtRax(out, goid.threadId().gToM()); // m
      out.putBytes((byte) 0x8b, (byte) 0x80); // mov eax, [rax+disp32]: procid (a tid fits 32 bits)
      out.putS32((int) goid.threadId().mToProcid());
      out.putBytes((byte) 0x85, (byte) 0xc0); // test eax, eax
      out.putJccShortLabel(Cond.NE, known); // 0 until minit has run
    }
    out.putLabel(ask);
    out.putMovReg32Imm32(Gpr.RAX, Syscall.GETTID);
    out.putBytes((byte) 0x0f, (byte) 0x05); // syscall (clobbers rcx, r11)
    out.putLabel(known);
    out.putBytes((byte) 0x89, (byte) 0x46, (byte) disp("tid")); // mov [rsi+tid], eax
    out.putBytes((byte) 0x0f, (byte) 0x31); // rdtsc: edx:eax
    out.putBytes((byte) 0x48, (byte) 0xc1, (byte) 0xe2, (byte) 0x20); // shl rdx, 32
    out.putBytes((byte) 0x48, (byte) 0x09, (byte) 0xd0); // or rax, rdx
    putStore(out, Gpr.RAX, "tsc");
  }

  /** Offset from rsp of a saved register's copy, or -1 when {@code reg} is not saved. */
  private static int savedSlot(Gpr reg) {
    for (int i = 0; i < SAVED.length; i++) if (SAVED[i] == reg) return 8 * (SAVED.length - 1 - i);
    return -1;
  }

  /** mov rax, [rsp+disp8]: 48 8b 44 24 disp8 (SIB 24: base rsp, no index). */
  private static void putLoadRaxFromStack(X86Writer out, int offset) {
    out.putBytes((byte) 0x48, (byte) 0x8b, (byte) 0x44, (byte) 0x24, (byte) offset);
  }

  /** mov [rsi+disp8], reg: REX.W (+R) 89 /r, ModRM 01 reg rsi. */
  private static void putStore(X86Writer out, Gpr reg, String field) {
    out.putBytes((byte) (0x48 | (reg.isExtended() ? 4 : 0)), (byte) 0x89,
        (byte) (0x40 | (reg.code() & 7) << 3 | Gpr.RSI.code()), (byte) disp(field));
  }

  private static int disp(String field) {
    long d = InProcRing.offset(InProcRing.RECORD, field);
    if (d > 127) throw new IllegalStateException("record field " + field + " beyond disp8");
    return (int) d;
  }

  /** lea rsp, [rsp+disp32]: 48 8d a4 24 disp32 (leaves the flags alone, unlike add/sub). */
  private static void putLeaRspRsp(X86Writer out, int delta) {
    out.putBytes((byte) 0x48, (byte) 0x8d, (byte) 0xa4, (byte) 0x24);
    out.putS32(delta);
  }

  /** {@code opcode} ending in a ModRM with a RIP-relative disp32 to {@code target}. */
  private static void putRip(X86Writer out, long target, int... opcode) {
    putRipImm(out, target, 0, opcode);
  }

  /** The same, followed by an immediate of {@code immBytes} (disp32 counts from its end). */
  private static void putRipImm(X86Writer out, long target, int immBytes, int... opcode) {
    for (int b : opcode) out.putU8(b);
    long disp = target - (out.pc() + 4 + immBytes);
    if (disp != (int) disp) throw new IllegalArgumentException("ring out of rel32 reach of the trampoline");
    out.putS32((int) disp);
  }
}
