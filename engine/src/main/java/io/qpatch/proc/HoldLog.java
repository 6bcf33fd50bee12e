package io.qpatch.proc;

import java.util.ArrayList;
import java.util.List;

/**
 * With {@code QPATCH_TRACE_STOPS=1} in the environment, every interval in which qpatch kept
 * a thread of a target from running, from the interrupt we sent to the resume or detach
 * that let it go, printed on stderr when the target is detached as {@code qpatch-pause PID
 * TID FROM TO} (CLOCK_MONOTONIC seconds, the clock of System.nanoTime on Linux and of the
 * target's clock_gettime). bench/patch-bench matches them against the gaps the target
 * measures itself, so that a pause is counted as ours only where we held that thread.
 * Kept in memory until then: printing inside a stop would lengthen it. Synchronized: the
 * tracer threads of a fleet command ({@link Tracer#pool}) record at once.
 */
final class HoldLog {
  static final boolean ON = "1".equals(System.getenv("QPATCH_TRACE_STOPS"));
  private static final List<long[]> HOLDS = new ArrayList<>();

  private HoldLog() {}

  /** Thread {@code tid} of process {@code pid} was held from {@code fromNanos} until now. */
  static synchronized void held(int pid, int tid, long fromNanos) {
    HOLDS.add(new long[] {pid, tid, fromNanos, System.nanoTime()});
  }

  /** Prints and forgets the intervals recorded so far. */
  static synchronized void flush() {
    if (!ON) return;
    StringBuilder out = new StringBuilder();
    for (long[] h : HOLDS) {
      if (!out.isEmpty()) out.append('\n');
      out.append(String.format("qpatch-pause %d %d %.6f %.6f", h[0], h[1], h[2] / 1e9, h[3] / 1e9));
    }
    HOLDS.clear();
    if (!out.isEmpty()) io.qpatch.error.Warnings.diagnostic(out.toString());
  }
}
