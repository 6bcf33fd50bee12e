package io.qpatch.trace;

/**
 * One call or return as the output formats see it.
 *
 * @param kind call or return
 * @param tid the OS thread (Go's "mid")
 * @param goid the goroutine id; {@link #NO_GOID} for C/C++ and where it cannot be read
 * @param timeNanos CLOCK_MONOTONIC time of the probe hit
 * @param function the function called or returning
 * @param values argument registers (call) or result registers (return), in ABI order
 * @param durationNanos for a return paired with its call, the time between; else -1
 * @param decoded {@code x=41, s="hi"} when arguments are decoded from DWARF, else null
 */
public record TraceEvent(
    ProbeSite.Kind kind,
    int tid,
    long goid,
    long timeNanos,
    TracedFunction function,
    long[] values,
    long durationNanos,
    String decoded,
    boolean noReturnSeen) {

  public static final long NO_GOID = -1;

  /** An event as a probe saw it (not a call closed without its return). */
  public TraceEvent(ProbeSite.Kind kind, int tid, long goid, long timeNanos, TracedFunction function, long[] values,
      long durationNanos, String decoded) {
    this(kind, tid, goid, timeNanos, function, values, durationNanos, decoded, false);
  }

  /**
   * A call closed without its return through a probe, at the time a return of a function
   * below it arrived ({@link CallPairing.Abandoned}): a frame unwound by a panic, an
   * exception or longjmp, or one left by a tail call. A return event with no values.
   */
  static TraceEvent noReturnSeen(int tid, long goid, long timeNanos, TracedFunction function, long openNanos) {
    return new TraceEvent(ProbeSite.Kind.RETURN, tid, goid, timeNanos, function, new long[0], openNanos, null, true);
  }

  /** A call (else a return). */
  public boolean isCall() {
    return kind == ProbeSite.Kind.CALL;
  }

  /** The goroutine id was read. */
  public boolean hasGoid() {
    return goid != NO_GOID;
  }
}
