package io.qpatch.trace;

import io.qpatch.sys.TimeStampCounter;

/**
 * Turns time-stamp counter values (what the trampolines record, ~10 ns to read here
 * against ~25 ns for a vDSO clock_gettime, and no stack or call needed) into
 * CLOCK_MONOTONIC nanoseconds ({@link System#nanoTime}, the other backends' clock).
 *
 * <p>Linear: one anchor pair taken at start, the rate measured over a short spin and
 * refined later over the longest baseline seen. Needs an invariant TSC (cpuinfo's
 * constant_tsc and nonstop_tsc; the kernel's clocksource is then tsc), which
 * {@link #unreliableReason} checks.
 */
final class TscClock {
  private static final long SPIN_NANOS = 5_000_000;
  private static final long REFINE_AFTER_NANOS = 200_000_000;

  private final long tsc0;
  private final long ns0;
  private volatile double nanosPerTick;
  private long lastRefine;

  private record Pair(long tsc, long nanos) {}

  TscClock() {
    Pair a = pair();
    long until = a.nanos() + SPIN_NANOS;
    Pair b = pair();
    while (b.nanos() < until) b = pair();
    tsc0 = a.tsc();
    ns0 = a.nanos();
    nanosPerTick = rate(a, b);
    lastRefine = b.nanos();
  }

  /** The CLOCK_MONOTONIC time of counter value {@code tsc}. */
  long nanos(long tsc) {
    return ns0 + Math.round((tsc - tsc0) * nanosPerTick);
  }

  /** Counter ticks in {@code nanos} nanoseconds, at the rate measured so far. */
  long ticks(long nanos) {
    return Math.round(nanos / nanosPerTick);
  }

  /** Re-measures the rate over the whole time since the anchor, now and then. */
  void refine() {
    long now = System.nanoTime();
    if (now - lastRefine < REFINE_AFTER_NANOS) return;
    nanosPerTick = rate(new Pair(tsc0, ns0), pair());
    lastRefine = now;
  }

  private static double rate(Pair a, Pair b) {
    return (double) (b.nanos() - a.nanos()) / (b.tsc() - a.tsc());
  }

  /** A counter value and the time it was read, from the tightest of a few tries. */
  private static Pair pair() {
    Pair best = null;
    long bestWidth = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      long before = System.nanoTime();
      long tsc = TimeStampCounter.read();
      long after = System.nanoTime();
      if (after - before < bestWidth) {
        bestWidth = after - before;
        best = new Pair(tsc, before + (after - before) / 2);
      }
    }
    return best;
  }

  /** Why the counter cannot serve as a clock here, or null. */
  static String unreliableReason() {
    try {
      String info = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/cpuinfo"));
      if (!info.contains(" constant_tsc") || !info.contains(" nonstop_tsc")) {
        return "this CPU's time-stamp counter is not invariant (no constant_tsc/nonstop_tsc in /proc/cpuinfo)";
      }
      return null;
    } catch (java.io.IOException e) {
      return "cannot read /proc/cpuinfo: " + e.getMessage();
    }
  }
}
