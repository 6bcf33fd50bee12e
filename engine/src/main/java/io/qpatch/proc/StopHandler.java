package io.qpatch.proc;

/**
 * A hook that sees a thread's signal-delivery-stops before they are treated as signals
 * for the target. A tracer that plants breakpoints (int3) installs one with {@link
 * Target#setStopHandler}: the SIGTRAP of a breakpoint hit is the tracer's business, not
 * the target's, and must be handled (registers fixed up) and suppressed, never delivered
 * (it would kill the target) nor kept for later.
 *
 * <p>Called on the tracer thread while thread {@code tid} is in a signal-delivery-stop,
 * both while the world runs and while it is being stopped or held; the handler may read
 * and write that thread's registers and the target's memory with {@link
 * io.qpatch.sys.Ptrace} directly (it runs on the thread that owns ptrace). It must not
 * resume the thread: the thread set does that (or keeps it stopped while the world is
 * held) and, when the handler claimed the stop, resumes it without the signal.
 */
@FunctionalInterface
public interface StopHandler {
  /**
   * Returns true when the stop was the handler's (say, a breakpoint it planted): the
   * signal is then suppressed. False lets the signal go to the target as usual.
   */
  boolean onSignalStop(int tid, int signal);
}
