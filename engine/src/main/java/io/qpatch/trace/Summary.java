package io.qpatch.trace;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code --summary}: at the end, one row per function called: calls, total and mean
 * time of the calls that returned through a probe, sorted by total time, then calls.
 */
public final class Summary implements EventSink {
  private final PrintStream out;
  private final Map<TracedFunction, long[]> rows = new HashMap<>();

  public Summary(PrintStream out) {
    this.out = out;
  }

  /** [calls, returns timed, total nanos] per function. */
  @Override
  public synchronized void accept(TraceEvent e) {
    long[] row = rows.computeIfAbsent(e.function(), f -> new long[3]);
    if (e.isCall()) {
      row[0]++;
    } else if (e.durationNanos() >= 0) {
      row[1]++;
      row[2] += e.durationNanos();
    }
  }

  @Override
  public synchronized void finish(TraceReport report) {
    List<Map.Entry<TracedFunction, long[]>> sorted = new ArrayList<>(rows.entrySet());
    sorted.sort(Comparator.<Map.Entry<TracedFunction, long[]>>comparingLong(e -> -e.getValue()[2])
        .thenComparingLong(e -> -e.getValue()[0]).thenComparing(e -> e.getKey().name()));
    int width = Math.max(8, sorted.stream().mapToInt(e -> e.getKey().name().length()).max().orElse(0));
    width = Math.min(width, 80);
    out.println(String.format(Locale.ROOT, "%-" + width + "s %10s %14s %12s", "FUNCTION", "CALLS", "TOTAL", "MEAN"));
    for (Map.Entry<TracedFunction, long[]> e : sorted) {
      long[] r = e.getValue();
      String total = r[1] == 0 ? "-" : duration(r[2]);
      String mean = r[1] == 0 ? "-" : duration(r[2] / r[1]);
      out.println(String.format(Locale.ROOT, "%-" + width + "s %10d %14s %12s", e.getKey().name(), r[0], total, mean));
    }
    out.flush();
  }

  static String duration(long nanos) {
    if (nanos < 10_000) return nanos + " ns";
    if (nanos < 10_000_000) return String.format(Locale.ROOT, "%.1f us", nanos / 1e3);
    if (nanos < 10_000_000_000L) return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
    return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
  }
}
