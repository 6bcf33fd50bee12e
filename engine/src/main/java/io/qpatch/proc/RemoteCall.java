package io.qpatch.proc;

import io.qpatch.error.ProcessExitedException;
import io.qpatch.error.RefusedException;
import io.qpatch.sys.Ptrace;
import io.qpatch.sys.Reg;
import io.qpatch.sys.Registers;
import io.qpatch.sys.Signals;
import io.qpatch.sys.WaitStatus;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Makes a stopped thread call a function in the target and return its result, then puts
 * the thread back exactly as it was: general registers and the whole XSAVE area (x87,
 * SSE, AVX), because the called code (glibc's string functions use AVX2) would clobber
 * vector registers the interrupted code still needs.
 *
 * <p>The call follows the SysV x86-64 ABI (psABI 3.2): integer arguments in rdi, rsi,
 * rdx, rcx, r8, r9, al = 0 vector registers for variadic callees, rsp 16-byte aligned
 * before the call. The return address is 0: when the function returns the thread
 * faults at pc 0 and we catch that SIGSEGV, so no code is written into the target. The
 * stack used lies below the thread's stack pointer and its red zone.
 */
final class RemoteCall {
  /** NT_X86_XSTATE (elf.h): the XSAVE area through PTRACE_GETREGSET. */
  private static final int NT_X86_XSTATE = 0x202;

  /** Large enough for every XSAVE layout up to AVX-512 with AMX tiles absent. */
  private static final long XSTATE_MAX = 16 * 1024;

  private static final Reg[] ARG_REGS = {Reg.RDI, Reg.RSI, Reg.RDX, Reg.RCX, Reg.R8, Reg.R9};
  private static final long TIMEOUT_NANOS = 5_000_000_000L;

  private final ThreadSet threads;
  private final MemorySegment xstate = Arena.ofAuto().allocate(XSTATE_MAX, 64);
  private final MemorySegment iovec = Arena.ofAuto().allocate(16, 8);

  RemoteCall(ThreadSet threads) {
    this.threads = threads;
  }

  /** Calls {@code function} with {@code args} in stopped thread {@code tid}; returns rax. */
  long call(int tid, Memory memory, long function, long... args) {
    if (args.length > ARG_REGS.length) throw new IllegalArgumentException("at most 6 arguments");
    TracedThread t = threads.requireStopped(tid);
    Registers saved = ThreadRegs.get(tid);
    long xlen = Ptrace.getRegSet(tid, NT_X86_XSTATE, xstate, iovec);
    byte[] savedXstate = xstate.asSlice(0, xlen).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    long sp = ((saved.rsp() - 512) & ~15L) - 8; // return address slot: rsp % 16 == 8 at entry
    byte[] savedStack = memory.read(sp, 8);
    try {
      memory.write(sp, new byte[8]);
      Registers work = saved.copy().rip(function).rsp(sp).rax(0).set(Reg.ORIG_RAX, -1);
      for (int i = 0; i < args.length; i++) work.set(ARG_REGS[i], args[i]);
      ThreadRegs.set(tid, work);
      runUntilReturn(t, function);
      return ThreadRegs.get(tid).rax();
    } finally {
      restore(t, saved, savedXstate, memory, sp, savedStack);
    }
  }

  private void restore(
      TracedThread t, Registers regs, byte[] xsave, Memory memory, long sp, byte[] stack) {
    if (t.isGone()) return;
    ThreadRegs.set(t.tid, regs);
    MemorySegment.copy(xsave, 0, xstate, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, xsave.length);
    Ptrace.setRegSet(t.tid, NT_X86_XSTATE, xstate, xsave.length, iovec);
    memory.write(sp, stack);
    threads.leaveSignalStop(t);
  }

  /**
   * Lets the thread run until it faults at pc 0 (the function returned). Signals that
   * arrive meanwhile are kept for later, like every signal sent while we hold a thread.
   */
  private void runUntilReturn(TracedThread t, long function) {
    long deadline = System.nanoTime() + TIMEOUT_NANOS;
    Ptrace.cont(t.tid, 0);
    t.inSignalStop = false;
    while (true) {
      WaitStatus st = awaitStop(t, deadline, function);
      if (st.terminated()) {
        threads.handle(t, st, true);
        throw new ProcessExitedException(threads.pid, st.raw(),
            "process " + threads.pid + " died during a call to 0x" + Long.toHexString(function));
      }
      if (st.event() == 0 && st.stopSignal() == Signals.SIGSEGV) {
        long pc = ThreadRegs.get(t.tid).rip();
        if (pc == 0) {
          t.inSignalStop = true; // the fault is ours: never delivered
          return;
        }
        throw crashed(t, function, "SIGSEGV at " + hex(pc));
      }
      if (st.event() == 0 && isFault(st.stopSignal())) {
        throw crashed(t, function, Signals.name(st.stopSignal()) + " at "
            + hex(ThreadRegs.get(t.tid).rip()));
      }
      if (st.event() == 0) t.pendingSignals.add(st.stopSignal());
      Ptrace.cont(t.tid, 0);
    }
  }

  private WaitStatus awaitStop(TracedThread t, long deadline, long function) {
    int[] status = new int[1];
    while (true) {
      if (io.qpatch.sys.Libc.waitpid(t.tid, status, io.qpatch.sys.WaitFlags.WNOHANG
          | io.qpatch.sys.WaitFlags.__WALL) != 0) {
        return new WaitStatus(status[0]);
      }
      if (System.nanoTime() > deadline) {
        Ptrace.interrupt(t.tid);
        threads.waitFor(t); // its interrupt stop; the caller then restores it
        throw new RefusedException("call to " + hex(function) + " in pid " + threads.pid
            + " did not return within 5 s (blocked on a lock held by a stopped thread?);"
            + " it was abandoned and the thread restored");
      }
      java.util.concurrent.locks.LockSupport.parkNanos(20_000);
    }
  }

  private static boolean isFault(int sig) {
    return sig == Signals.SIGBUS || sig == Signals.SIGILL || sig == Signals.SIGFPE
        || sig == Signals.SIGTRAP || sig == Signals.SIGABRT;
  }

  private RefusedException crashed(TracedThread t, long function, String what) {
    return new RefusedException("call to " + hex(function) + " in pid " + threads.pid
        + " crashed (" + what + "); the thread was restored to where it was");
  }

  private static String hex(long v) {
    return "0x" + Long.toHexString(v);
  }
}
