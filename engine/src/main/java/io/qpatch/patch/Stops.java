package io.qpatch.patch;

import io.qpatch.proc.Target;
import java.util.function.Supplier;

/**
 * The patch engine's interruptions of the target, each named for what it does: a stop of
 * every thread ({@link #stopped}: only the switch, which must see every thread still) or a
 * hold of one thread while the others run ({@link #held}: memory made or removed, code of
 * the patch run). With {@code QPATCH_TRACE_STOPS=1} in the environment each prints how long
 * the target was held on stderr, from the first interrupt to the last resume ({@link
 * Target#lastHoldNanos}; {@code qpatch-stop 0.412 ms: activate cpatch.o}, {@code
 * qpatch-hold 0.080 ms thread 123: mmap cpatch.o TEXT}), which is what bench/patch-bench
 * reports next to the pauses the target measures itself. Nested in another, none prints.
 */
final class Stops {
  private static final boolean TRACE = "1".equals(System.getenv("QPATCH_TRACE_STOPS"));

  private Stops() {}

  /** Runs {@code work} with every thread of {@code target} stopped. */
  static <T> T stopped(Target target, String what, Supplier<T> work) {
    if (!TRACE || Checkpoints.rehearsing()) return target.whileStopped(work);
    T result = target.whileStopped(work);
    io.qpatch.error.Warnings.diagnostic(String.format("qpatch-stop %.3f ms: %s", target.lastHoldNanos() / 1e6, what));
    return result;
  }

  /** Runs {@code work} with one thread of {@code target} held, see {@link Target#whileOneHeld}. */
  static <T> T held(Target target, String what, Supplier<T> work) {
    if (!TRACE || Checkpoints.rehearsing() || target.heldThread() != -1 || target.isStopped()) {
      return target.whileOneHeld(work);
    }
    int[] tid = {-1};
    T result = target.whileOneHeld(() -> {
      tid[0] = target.heldThread();
      return work.get();
    });
    io.qpatch.error.Warnings.diagnostic(String.format("qpatch-hold %.3f ms thread %d: %s", target.lastHoldNanos() / 1e6, tid[0], what));
    return result;
  }
}
