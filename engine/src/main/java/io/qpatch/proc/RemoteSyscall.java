package io.qpatch.proc;

import io.qpatch.error.SyscallException;
import io.qpatch.sys.Errno;
import io.qpatch.sys.Ptrace;
import io.qpatch.sys.Reg;
import io.qpatch.sys.Registers;
import io.qpatch.sys.Signals;
import io.qpatch.sys.WaitStatus;
import java.util.List;

/**
 * Makes a stopped thread of the target execute one system call for us, then puts every
 * register back. No byte of the target is written: the thread single-steps an existing
 * {@code syscall} instruction (0f 05) found in the vDSO or another executable mapping.
 *
 * <p>A thread stopped inside an interrupted system call (nanosleep, read ...) keeps it:
 * while our call runs, orig_rax is -1 so the kernel does not apply its restart logic to
 * our registers; once the saved registers (orig_rax = the interrupted call, rax =
 * -ERESTART*) are back, the kernel restarts the original call on resume exactly as it
 * would have (arch/x86/kernel/signal.c, handle_signal / arch_do_signal_or_restart).
 */
final class RemoteSyscall {
  /** x86-64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
  static final int SYS_CLOSE = 3;

  static final int SYS_MMAP = 9;
  static final int SYS_MPROTECT = 10;
  static final int SYS_MUNMAP = 11;
  static final int SYS_GETPID = 39;
  static final int SYS_FTRUNCATE = 77;
  static final int SYS_MEMFD_CREATE = 319;

  /** rdi, rsi, rdx, r10, r8, r9: the kernel's syscall argument registers (x86-64 ABI A.2.1). */
  private static final Reg[] ARG_REGS = {Reg.RDI, Reg.RSI, Reg.RDX, Reg.R10, Reg.R8, Reg.R9};

  private final ThreadSet threads;
  private final Memory memory;
  private long gadget;

  RemoteSyscall(ThreadSet threads, Memory memory) {
    this.threads = threads;
    this.memory = memory;
  }

  /**
   * Runs syscall {@code nr} with {@code args} in thread {@code tid} (stopped) and returns
   * the kernel's raw result: a negative value is -errno.
   */
  long call(int tid, int nr, long... args) {
    if (args.length > ARG_REGS.length) throw new IllegalArgumentException("at most 6 arguments");
    TracedThread t = threads.requireStopped(tid);
    Registers saved = ThreadRegs.get(tid);
    Registers work = saved.copy().rip(gadget()).rax(nr).set(Reg.ORIG_RAX, -1);
    for (int i = 0; i < args.length; i++) work.set(ARG_REGS[i], args[i]);
    ThreadRegs.set(tid, work);
    long result;
    try {
      stepOverSyscall(t);
      result = ThreadRegs.get(tid).rax();
    } finally {
      ThreadRegs.set(tid, saved);
      if (!t.isGone() && t.inSignalStop) threads.leaveSignalStop(t);
    }
    return result;
  }

  /** As {@link #call}, but a negative result becomes a SyscallException named {@code what}. */
  long check(int tid, String what, int nr, long... args) {
    long r = call(tid, nr, args);
    if (r < 0 && r > -4096) {
      int errno = (int) -r;
      throw new SyscallException(
          "remote " + what, threads.pid, errno,
          "remote " + what + " in pid " + threads.pid + " failed: " + Errno.format(errno));
    }
    return r;
  }

  /**
   * Single-steps until the thread stops right after the syscall instruction. A pending
   * PTRACE_INTERRUPT may stop it first, and a signal may arrive meanwhile: both are
   * handled like any other stop and the step is retried.
   */
  private void stepOverSyscall(TracedThread t) {
    long after = gadget + 2;
    while (true) {
      Ptrace.singleStep(t.tid, 0);
      t.inSignalStop = false;
      WaitStatus st = threads.waitFor(t);
      if (st.terminated()) {
        threads.handle(t, st, true);
        throw new io.qpatch.error.ProcessExitedException(threads.pid, st.raw());
      }
      boolean stepTrap = st.event() == 0 && st.stopSignal() == Signals.SIGTRAP;
      long rip = ThreadRegs.get(t.tid).rip();
      if (stepTrap && rip == after) {
        t.inSignalStop = true; // a SIGTRAP signal-delivery-stop: can carry a kept signal
        return;
      }
      if (!stepTrap) threads.handle(t, st, true);
      if (rip != gadget) {
        throw new IllegalStateException(
            "thread " + t.tid + " left the syscall instruction unexpectedly (" + st + ")");
      }
    }
  }

  /** Address of a {@code syscall} instruction in an executable mapping of the target. */
  private long gadget() {
    if (gadget != 0) return gadget;
    List<Mapping> maps = ProcMaps.read(threads.pid);
    for (boolean vdsoPass : new boolean[] {true, false}) {
      for (Mapping m : maps) {
        if (!m.isExecutable() || m.isVdso() != vdsoPass || m.size() > (64 << 20)) continue;
        long found = find(m);
        if (found != 0) return gadget = found;
      }
    }
    throw new IllegalStateException("no syscall instruction in any executable mapping of pid "
        + threads.pid);
  }

  private long find(Mapping m) {
    byte[] code;
    try {
      code = memory.read(m.start(), (int) m.size());
    } catch (SyscallException e) {
      return 0; // e.g. [vsyscall], which /proc/PID/mem cannot read
    }
    for (int i = 0; i + 1 < code.length; i++) {
      if (code[i] == 0x0f && code[i + 1] == 0x05) return m.start() + i;
    }
    return 0;
  }
}
