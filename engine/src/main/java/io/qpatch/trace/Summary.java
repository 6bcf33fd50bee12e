package io.qpatch.trace;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code --summary}: at the end, one row per function called: calls, then total, self
 * (total less the time of the traced calls it made), mean and max time of the calls that
 * returned through a probe, sorted by total time, then calls. Calls pair with returns per
 * goroutine (or thread) as for the trace's own durations ({@link CallPairing}).
 * {@link #toString()} is the table; {@link #rows()} the numbers.
 */
public final class Summary implements EventSink {
  /**
   * One function's row.
   *
   * @param function the function's printed name
   * @param calls calls seen
   * @param timed calls whose return was seen too (their time is in the total)
   * @param totalNanos time spent in the timed calls
   * @param selfNanos that less the time of the traced calls they made
   * @param maxNanos the longest timed call
   */
  public record Row(String function, long calls, long timed, long totalNanos, long selfNanos, long maxNanos) {
    /** Mean time of a timed call, or -1 when none returned through a probe. */
    public long meanNanos() {
      return timed == 0 ? -1 : totalNanos / timed;
    }
  }

  private final PrintStream out;
  private final Map<TracedFunction, long[]> rows = new HashMap<>();
  private final CallPairing pairing = new CallPairing();

  /** A summary printed to {@code out} when the trace finishes. */
  public Summary(PrintStream out) {
    this.out = out;
  }

  /** A summary that only collects: read it with {@link #rows()} or {@link #toString()}. */
  public Summary() {
    this(null);
  }

  /** [calls, returns timed, total, self, max nanos] per function. */
  @Override
  public synchronized void accept(TraceEvent e) {
    long[] row = rows.computeIfAbsent(e.function(), f -> new long[5]);
    long key = CallPairing.key(e.tid(), e.goid());
    if (e.isCall()) {
      row[0]++;
      pairing.call(key, e.function(), e.timeNanos());
      return;
    }
    CallPairing.Paired p = pairing.pair(key, e.function(), e.timeNanos());
    if (p == null) return;
    row[1]++;
    row[2] += p.duration();
    row[3] += p.self();
    row[4] = Math.max(row[4], p.duration());
  }

  /** Prints the table, when made with a stream. */
  @Override
  public void finish(TraceReport report) {
    if (out == null) return;
    out.print(this);
    out.flush();
  }

  /** Every function called, by total time, then calls, then name. */
  public synchronized List<Row> rows() {
    List<Row> out = new ArrayList<>();
    for (Map.Entry<TracedFunction, long[]> e : rows.entrySet()) {
      long[] r = e.getValue();
      out.add(new Row(e.getKey().name(), r[0], r[1], r[2], r[3], r[4]));
    }
    out.sort(Comparator.comparingLong((Row r) -> -r.totalNanos())
        .thenComparingLong(r -> -r.calls()).thenComparing(Row::function));
    return out;
  }

  /** The table: a header, then a line per row. */
  @Override
  public String toString() {
    List<Row> sorted = rows();
    int width = Math.max(8, sorted.stream().mapToInt(r -> r.function().length()).max().orElse(0));
    width = Math.min(width, 80);
    String line = "%-" + width + "s %10s %14s %14s %12s %12s%n";
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, line, "FUNCTION", "CALLS", "TOTAL", "SELF",
        "MEAN", "MAX"));
    for (Row r : sorted) {
      boolean timed = r.timed() > 0;
      sb.append(String.format(Locale.ROOT, line, r.function(), r.calls(), timed ? duration(r.totalNanos()) : "-",
          timed ? duration(r.selfNanos()) : "-", timed ? duration(r.meanNanos()) : "-",
          timed ? duration(r.maxNanos()) : "-"));
    }
    return sb.toString();
  }

  static String duration(long nanos) {
    if (nanos < 10_000) return nanos + " ns";
    if (nanos < 10_000_000) return String.format(Locale.ROOT, "%.1f us", nanos / 1e3);
    if (nanos < 10_000_000_000L) return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
    return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
  }
}
