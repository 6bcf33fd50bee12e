package io.qpatch.proc;

import io.qpatch.error.RefusedException;
import io.qpatch.sys.Ptrace;
import io.qpatch.sys.Reg;
import io.qpatch.sys.Registers;
import io.qpatch.sys.Signals;
import io.qpatch.sys.Syscall;
import io.qpatch.sys.WaitStatus;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Makes a stopped thread call a function in the target and return its result, then puts
 * the thread back exactly as it was: general registers, signal mask and the whole XSAVE
 * area (x87, SSE, AVX), because the called code (glibc's string functions use AVX2)
 * would clobber vector registers the interrupted code still needs.
 *
 * <p>The call follows the SysV x86-64 ABI (psABI 3.2): integer arguments in rdi, rsi,
 * rdx, rcx, r8, r9, al = 0 vector registers for variadic callees, rsp 16-byte aligned
 * before the call. Below the thread's stack pointer and red zone lies an rt_sigreturn
 * frame whose first word, the return address, is the {@link ControlPage}'s CALL_RETURN;
 * its FPU image is in a slot of that page. The function runs with every signal blocked,
 * under PTRACE_SYSCALL: its own system calls' stops are passed over, and the pad's getpid
 * entry-stop says it returned. If qpatch is SIGKILLed meanwhile, the function returns into
 * the pad, which restores the thread by rt_sigreturn (see {@link RemoteOp}).
 */
final class RemoteCall {
  private static final Reg[] ARG_REGS = {Reg.RDI, Reg.RSI, Reg.RDX, Reg.RCX, Reg.R8, Reg.R9};
  private static final long TIMEOUT_NANOS = 5_000_000_000L;

  private final ThreadSet threads;
  private final RemoteSyscall syscalls;
  private final XState xstate = new XState();
  private final MemorySegment scratch8 = Arena.ofAuto().allocate(8, 8);

  RemoteCall(ThreadSet threads, RemoteSyscall syscalls) {
    this.threads = threads;
    this.syscalls = syscalls;
  }

  /** Calls {@code function} with {@code args} in stopped thread {@code tid}; returns rax. */
  long call(int tid, Memory memory, long function, long... args) {
    if (args.length > ARG_REGS.length) throw new IllegalArgumentException("at most 6 arguments");
    ControlPage page = syscalls.controlPage(tid);
    syscalls.finishLetGo(tid);
    long rsp = ThreadRegs.get(tid).rsp();
    // the return address slot starts the frame: rsp % 16 == 8 at entry (psABI 3.2.2)
    long frame = ((rsp - RemoteSyscall.RED_ZONE - SigFrame.size()) & ~15L) - 8;
    int slot = page.claim(memory, tid, ControlPage.KIND_CALL, frame);
    if (slot < 0) {
      throw new RefusedException("cannot call 0x" + Long.toHexString(function) + " in pid "
          + threads.pid + ": every control slot is held by a call of a killed qpatch run; try again later");
    }
    byte[] stack = memory.read(frame, SigFrame.size());
    try {
      return callFrom(tid, page, page.slot(slot), frame, memory, function, args);
    } finally {
      if (RemoteSyscall.isLive(threads, tid)) {
        memory.write(frame, stack);
        page.free(memory, slot);
        KillPoints.passed("call slot freed");
      }
    }
  }

  private long callFrom(int tid, ControlPage page, long slot, long frame, Memory memory,
      long function, long[] args) {
    RemoteOp op = new RemoteOp("call", threads, tid, scratch8);
    byte[] xsave = xstate.read(op.t.tid);
    long fpstate = slot + ControlPage.SLOT_FPSTATE;
    memory.write(fpstate, XState.forSigFrame(xsave));
    memory.write(frame, op.frame(page.callReturn(), fpstate, new byte[0]));
    op.step("frame written");
    Registers work = op.saved.copy().rip(function).rsp(frame).rax(0).set(Reg.ORIG_RAX, -1)
        .set(Reg.RBX, slot);
    for (int i = 0; i < args.length; i++) work.set(ARG_REGS[i], args[i]);
    try {
      op.redirect(work);
      return runUntilReturn(op, page, work);
    } finally {
      op.restore(xstate, xsave);
    }
  }

  /**
   * Lets the thread run until the pad reports the return. The function's own syscall-stops
   * are passed over; a fault is reported as a crash; signals that arrive meanwhile (only
   * unblockable ones can) are kept, like every signal sent while we hold a thread.
   */
  private long runUntilReturn(RemoteOp op, ControlPage page, Registers work) {
    long function = work.rip();
    long deadline = System.nanoTime() + TIMEOUT_NANOS;
    Ptrace.syscall(op.t.tid, 0);
    op.t.inSignalStop = false;
    boolean first = true;
    while (true) {
      WaitStatus st = op.checkAlive(awaitStop(op, deadline, function));
      if (RemoteOp.isSyscallStop(st)) {
        Registers r = ThreadRegs.get(op.t.tid);
        if (first && r.rip() == function) ThreadRegs.set(op.t.tid, work); // see afterInterruptedSyscall
        first = false;
        if (r.rip() == page.returned() && r.origRax() == Syscall.GETPID) {
          op.step("returned");
          return r.get(Reg.RDI);
        }
        op.step("in a syscall-stop of the function");
      } else if (st.event() == 0 && isFault(st.stopSignal())) {
        throw crashed(function, Signals.name(st.stopSignal()) + " at "
            + hex(ThreadRegs.get(op.t.tid).rip()));
      } else {
        threads.handle(op.t, st, true);
      }
      Ptrace.syscall(op.t.tid, 0);
      op.t.inSignalStop = false;
    }
  }

  private WaitStatus awaitStop(RemoteOp op, long deadline, long function) {
    int[] status = new int[1];
    if (Tracer.get().awaitStatus(deadline, status, tid -> tid == op.t.tid) != 0) {
      return new WaitStatus(status[0]);
    }
    abandon(op);
    throw new RefusedException("call to " + hex(function) + " in pid " + threads.pid
        + " did not return within 5 s (blocked on a lock held by a stopped thread?);"
        + " it was abandoned and the thread restored");
  }

  /** Interrupts the running call: the thread ends in an event stop, ready to be restored. */
  private void abandon(RemoteOp op) {
    Ptrace.interrupt(op.t.tid);
    while (true) {
      WaitStatus st = op.checkAlive(threads.waitFor(op.t));
      if (!RemoteOp.isSyscallStop(st)) threads.handle(op.t, st, true);
      if (st.event() == Ptrace.EVENT_STOP) return;
      Ptrace.syscall(op.t.tid, 0);
      op.t.inSignalStop = false;
    }
  }

  private static boolean isFault(int sig) {
    return sig == Signals.SIGSEGV || sig == Signals.SIGBUS || sig == Signals.SIGILL
        || sig == Signals.SIGFPE || sig == Signals.SIGTRAP || sig == Signals.SIGABRT;
  }

  private RefusedException crashed(long function, String what) {
    return new RefusedException("call to " + hex(function) + " in pid " + threads.pid
        + " crashed (" + what + "); the thread was restored to where it was");
  }

  private static String hex(long v) {
    return "0x" + Long.toHexString(v);
  }
}
