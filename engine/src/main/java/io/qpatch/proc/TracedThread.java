package io.qpatch.proc;

import java.util.ArrayDeque;

/**
 * What the tracer knows about one thread of a target. Touched only on the tracer
 * thread.
 */
final class TracedThread {
  enum State {
    /** Running, or at least not in a stop we hold. */
    RUNNING,
    /** In a ptrace-stop that we hold (its registers can be read and written). */
    STOPPED,
    /** Exited or killed. */
    GONE
  }

  final int tid;
  State state = State.RUNNING;
  /** We sent PTRACE_INTERRUPT and have not yet seen its PTRACE_EVENT_STOP. */
  boolean interruptPending;
  /** The current stop is a signal-delivery-stop: a signal can be injected on resume. */
  boolean inSignalStop;
  /** The process is in group-stop (SIGSTOP and friends): resume with PTRACE_LISTEN. */
  boolean groupStopped;
  /**
   * Signals the target was sent while we held this thread, to deliver when it runs
   * again: the first is injected on resume, the rest re-sent with tgkill.
   */
  final ArrayDeque<Integer> pendingSignals = new ArrayDeque<>();
  /** When we interrupted it, for {@link HoldLog}; 0: not held, or not logging. */
  long heldSince;

  TracedThread(int tid) {
    this.tid = tid;
  }

  boolean isStopped() {
    return state == State.STOPPED;
  }

  boolean isGone() {
    return state == State.GONE;
  }

  @Override
  public String toString() {
    return "thread " + tid + " " + state + (pendingSignals.isEmpty() ? "" : " " + pendingSignals);
  }
}
