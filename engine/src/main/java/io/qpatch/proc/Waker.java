package io.qpatch.proc;

import io.qpatch.error.SyscallException;
import io.qpatch.sys.Errno;
import io.qpatch.sys.Libc;
import io.qpatch.sys.Ptrace;
import io.qpatch.sys.Signals;
import io.qpatch.sys.Spawn;
import io.qpatch.sys.WaitStatus;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Wakes the tracer thread out of a blocking {@code waitpid}. waitpid has no timeout and
 * no file descriptor to poll, but it returns for any stop of a tracee; so the waker is a
 * tracee of our own: a {@code sleep infinity} child that the tracer thread seized. Any
 * thread wakes the loop by sending it a signal (its signal-delivery-stop is reported to
 * waitpid); the loop suppresses the signal and lets it sleep on.
 *
 * <p>It is seized with PTRACE_O_EXITKILL, so the kernel kills it when the tracer thread
 * exits with the JVM: it never outlives us. Since it is our unreaped child while it
 * lives, its pid cannot be reused under a late {@code kill}.
 */
final class Waker {
  /** The signal that wakes; never delivered (suppressed at the stop). */
  private static final int WAKE_SIGNAL = Signals.SIGUSR1;

  private volatile int pid;
  private final AtomicBoolean signalled = new AtomicBoolean();

  /** Spawns and seizes the sleeper if there is none; tracer thread only. */
  void ensureStarted() {
    if (pid > 0) return;
    int child = Spawn.spawn(List.of("sleep", "infinity"), null);
    Ptrace.seize(child, Ptrace.O_EXITKILL);
    signalled.set(false);
    pid = child;
  }

  /** From any thread: makes the blocking loop return from waitpid soon. */
  void wake() {
    int p = pid;
    if (p <= 0 || signalled.getAndSet(true)) return;
    try {
      Libc.kill(p, WAKE_SIGNAL);
    } catch (SyscallException e) {
      if (e.errno() != Errno.ESRCH) throw e;
    }
  }

  /**
   * Called by the loop before it looks for work: a wake() from now on sends a new
   * signal. (Set the condition first, then wake; the loop clears, then checks.)
   */
  void rearm() {
    signalled.set(false);
  }

  boolean owns(int tid) {
    return tid == pid;
  }

  /** Handles a status of the sleeper: let it sleep on without the signal, or forget it. */
  void onStatus(int rawStatus) {
    WaitStatus st = new WaitStatus(rawStatus);
    if (st.terminated()) {
      pid = 0; // killed by someone else: the next loop starts a new one
      return;
    }
    try {
      Ptrace.cont(pid, 0);
    } catch (SyscallException e) {
      if (e.errno() != Errno.ESRCH) throw e;
    }
  }
}
