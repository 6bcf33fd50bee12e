package io.qpatch.trace;

/**
 * Receives each probe hit from a backend, on the backend's own thread, one at a time.
 * For the ptrace backend the hitting thread is still stopped while this runs (its
 * memory is as it was at the probe); for the uprobe backend the hit is already past.
 */
@FunctionalInterface
public interface HitConsumer {
  /**
   * @param site the probe that fired
   * @param tid the thread that hit it
   * @param timeNanos CLOCK_MONOTONIC time of the hit
   * @param regs the registers at the probe, as {@link SampleRegs} slots
   */
  void hit(ProbeSite site, int tid, long timeNanos, long[] regs);

  /**
   * A hit whose goroutine id the backend read itself at the probe (the in-process
   * backend's trampoline reads it from g while g is certainly the running goroutine).
   * Consumers that do not show goids may ignore it.
   */
  default void hit(ProbeSite site, int tid, long timeNanos, long[] regs, long goid) {
    hit(site, tid, timeNanos, regs);
  }

  /**
   * A hit whose goid and memory the backend captured at the probe ({@link Capture}s): a
   * decoder reads {@code atProbe}, never the live process.
   */
  default void hit(ProbeSite site, int tid, long timeNanos, long[] regs, long goid, TargetMemory atProbe) {
    hit(site, tid, timeNanos, regs, goid);
  }

  /**
   * True when {@link #hit} must run while the hitting thread is still stopped (it reads
   * the target's memory, say to decode arguments). When false, the ptrace backend reads
   * {@link #goidAt} at the stop and hands the hit over once the thread runs again, off the
   * hit's critical path.
   */
  default boolean needsStoppedThread() {
    return true;
  }

  /** The goroutine id at a hit, read while the thread is stopped; {@link TraceEvent#NO_GOID} when none. */
  default long goidAt(ProbeSite site, long[] regs) {
    return TraceEvent.NO_GOID;
  }
}
