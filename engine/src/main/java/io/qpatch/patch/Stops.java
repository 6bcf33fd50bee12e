package io.qpatch.patch;

import io.qpatch.proc.Target;

/**
 * The patch engine's stops of the target, each named for what it does. With {@code
 * QPATCH_TRACE_STOPS=1} in the environment each prints how long the target's threads
 * were held on stderr ({@code qpatch-stop 0.412 ms: activate cpatch.o}), which is what
 * bench/patch-bench reports next to the pause the target measures itself.
 */
final class Stops {
  private static final boolean TRACE = "1".equals(System.getenv("QPATCH_TRACE_STOPS"));

  private Stops() {}

  /** Stops every thread of {@code target}; {@code close()} resumes them. */
  static Target.Stopped stop(Target target, String what) {
    if (!TRACE) return target.stop();
    Timed timed = new Timed(what);  // made before the stop: nothing new to load inside it
    timed.start = System.nanoTime();
    timed.stopped = target.stop();
    return timed;
  }

  /** A stop that reports its length when it ends. */
  private static final class Timed implements Target.Stopped {
    private final String what;
    private long start;
    private Target.Stopped stopped;

    Timed(String what) {
      this.what = what;
    }

    @Override
    public void close() {
      stopped.close();
      System.err.printf("qpatch-stop %.3f ms: %s%n", (System.nanoTime() - start) / 1e6, what);
    }
  }
}
