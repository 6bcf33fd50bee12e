package io.qpatch.proc;

import io.qpatch.error.ProcessExitedException;
import io.qpatch.error.SyscallException;
import io.qpatch.sys.Errno;
import io.qpatch.sys.Libc;
import io.qpatch.sys.Ptrace;
import io.qpatch.sys.Registers;
import io.qpatch.sys.Signals;
import io.qpatch.sys.WaitStatus;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;

/**
 * One remote system call or call on a stopped thread: what the thread was (registers,
 * signal mask), the switch to the work registers, the run from syscall-stop to
 * syscall-stop, and the way back. The order of each step is what makes a SIGKILL of
 * qpatch harmless at any moment:
 *
 * <ol>
 *   <li>the frame that restores the thread is written before its registers change;
 *   <li>registers first, then every signal blocked but faults (a thread we die on meanwhile runs the
 *       pad, which restores its mask); signals kept for it go back to the kernel, pending
 *       and blocked, instead of living only in our memory;
 *   <li>PTRACE_SYSCALL, never single-step or a fault: a thread left in a syscall-stop by
 *       a dying tracer just runs on (with PTRACE_O_TRACESYSGOOD the stop's SIGTRAP|0x80 is
 *       not a valid signal, so the kernel's send_sig of it in ptrace_report_syscall fails
 *       harmlessly), whereas a single-stepped thread keeps TF set and dies of the next
 *       trap, and one stopped by a fault at a bad address faults again (seen on 6.18);
 *   <li>back: first into an event stop at the pad (nothing runs meanwhile), then the
 *       mask, then the registers; a thread we die on between runs the pad.
 * </ol>
 */
final class RemoteOp {
  /**
   * Every signal but the synchronous faults (the kernel drops SIGKILL and SIGSTOP from any
   * mask). A fault that hits a blocked signal resets the process's handler for it to
   * SIG_DFL (kernel/signal.c, force_sig_info_to_task): those stay deliverable, so a
   * called function that faults shows as a crash and the target keeps its handlers.
   */
  private static final long ALL_SIGNALS = ~(bit(Signals.SIGILL) | bit(Signals.SIGTRAP)
      | bit(Signals.SIGBUS) | bit(Signals.SIGFPE) | bit(Signals.SIGSEGV) | bit(Signals.SIGSYS));
  private static final int SYSCALL_STOP = Signals.SIGTRAP | 0x80;

  final ThreadSet threads;
  final TracedThread t;
  final Registers saved;
  final long savedMask;
  private final String kind;
  private final MemorySegment scratch8;

  /** {@code kind} names the operation in {@link KillPoints} steps. */
  RemoteOp(String kind, ThreadSet threads, int tid, MemorySegment scratch8) {
    this.kind = kind;
    this.threads = threads;
    this.t = threads.requireStopped(tid);
    this.scratch8 = scratch8;
    this.saved = ThreadRegs.get(tid);
    this.savedMask = Ptrace.getSigMask(tid, scratch8);
  }

  /** An rt_sigreturn frame that puts this thread back as it was (see {@link SigFrame}). */
  byte[] frame(long pretcode, long fpstate, byte[] scratch) {
    return SigFrame.build(pretcode, SigFrame.resumeState(saved), savedMask, fpstate, scratch);
  }

  /** Marks a step of this operation for the SIGKILL tests (see {@link KillPoints}). */
  void step(String what) {
    KillPoints.passed(kind + " " + what);
  }

  /** Switches the thread to {@code work} with every signal blocked. */
  void redirect(Registers work) {
    ThreadRegs.set(t.tid, work);
    step("redirected");
    Ptrace.setSigMask(t.tid, ALL_SIGNALS, scratch8);
    step("signals blocked");
    requeueKeptSignals();
  }

  /**
   * Signals kept for the thread (seen while we held it) are sent again now that they
   * are blocked: they wait in the kernel, delivered once the mask is restored, by us or
   * by the pad. SIGSTOP cannot be blocked and stays kept.
   */
  private void requeueKeptSignals() {
    ArrayDeque<Integer> kept = new ArrayDeque<>();
    while (!t.pendingSignals.isEmpty()) {
      int sig = t.pendingSignals.poll();
      if (sig == Signals.SIGSTOP) {
        kept.add(sig);
        continue;
      }
      try {
        Libc.tgkill(threads.pid, t.tid, sig);
      } catch (SyscallException e) {
        if (e.errno() != Errno.ESRCH) throw e;
      }
    }
    t.pendingSignals.addAll(kept);
  }

  /**
   * Resumes the thread to its next syscall-stop (entry or exit) and returns its
   * registers. A pending PTRACE_INTERRUPT's stop or a signal on the way is handled (the
   * signal kept) and the thread resumed again.
   */
  Registers nextSyscallStop() {
    while (true) {
      WaitStatus st = resume();
      if (isSyscallStop(st)) return ThreadRegs.get(t.tid);
      threads.handle(t, st, true);
    }
  }

  /**
   * For a thread that was stopped inside a system call (at PTRACE_EVENT_EXEC, say, which
   * a launched program is held at), the first syscall-stop is that call's exit, before
   * our instruction ran, and the call's return has overwritten rax: the work registers go
   * in again and the thread runs on to the next syscall-stop, whose registers are returned.
   */
  Registers afterInterruptedSyscall(Registers work) {
    ThreadRegs.set(t.tid, work);
    return nextSyscallStop();
  }

  /** PTRACE_SYSCALL and the next status; a thread that died is reported as such. */
  WaitStatus resume() {
    Ptrace.syscall(t.tid, 0);
    t.inSignalStop = false;
    return checkAlive(threads.waitFor(t));
  }

  WaitStatus checkAlive(WaitStatus st) {
    if (st.terminated()) {
      threads.handle(t, st, true);
      throw new ProcessExitedException(threads.pid, st.raw());
    }
    return st;
  }

  private static long bit(int signal) {
    return 1L << (signal - 1);
  }

  static boolean isSyscallStop(WaitStatus st) {
    return st.stopped() && st.event() == 0 && st.stopSignal() == SYSCALL_STOP;
  }

  /**
   * Puts the thread back: to an event stop first (from a syscall-stop, the rest of that
   * syscall runs, then the stop comes before any user instruction), then its signal mask,
   * its FPU state when {@code xsave} is not null, and its registers last.
   */
  void restore(XState xstate, byte[] xsave) {
    if (t.isGone()) return;
    threads.leaveSignalStop(t);
    step("in event stop");
    Ptrace.setSigMask(t.tid, savedMask, scratch8);
    step("mask restored");
    if (xsave != null) {
      xstate.write(t.tid, xsave);
      step("fpu restored");
    }
    ThreadRegs.set(t.tid, saved);
    step("registers restored");
  }
}
