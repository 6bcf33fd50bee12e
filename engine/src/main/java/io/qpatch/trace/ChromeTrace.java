package io.qpatch.trace;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * A Chrome Trace Event file (the JSON Object Format of the "Trace Event Format" document,
 * which ui.perfetto.dev and chrome://tracing open): one track per goroutine (per thread
 * for C/C++ and goroutine-less Go code), each returned call a complete event ("ph":"X")
 * with its start and duration in microseconds, calls still open at the end as begin
 * events ("B") that the viewer extends to the end. Written as it goes; closed by {@link
 * #finish}.
 */
public final class ChromeTrace implements EventSink {
  private final Writer out;
  private int pid;
  private final Map<Long, ArrayDeque<TraceEvent>> open = new HashMap<>();
  private final Set<Long> named = new HashSet<>();
  private final StringBuilder sb = new StringBuilder(256);
  private boolean first = true;

  public ChromeTrace(Writer out) {
    this.out = new BufferedWriter(out, 1 << 16);
    write("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
  }

  /** Every event is filed under the traced process's pid. */
  @Override
  public synchronized void start(int pid) {
    this.pid = pid;
  }

  @Override
  public synchronized void accept(TraceEvent e) {
    long track = track(e);
    nameTrack(track, e);
    ArrayDeque<TraceEvent> stack = open.computeIfAbsent(track, k -> new ArrayDeque<>());
    if (e.isCall()) {
      stack.push(e);
      return;
    }
    while (!stack.isEmpty()) {
      TraceEvent call = stack.pop();
      if (call.function().id() == e.function().id()) {
        event(call, "X", e.timeNanos() - call.timeNanos());
        return;
      }
      event(call, "B", -1); // never returned through a probe: left open
    }
  }

  /** The goroutine for Go code that has one, else the thread (negated, to keep them apart). */
  private static long track(TraceEvent e) {
    return e.goid() > 0 ? e.goid() : -(long) e.tid();
  }

  private void nameTrack(long track, TraceEvent e) {
    if (!named.add(track)) return;
    String name = track > 0 ? "goroutine " + track : (e.function().isGo() ? "thread " : "tid ") + e.tid();
    sb.setLength(0);
    sb.append("{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":").append(pid).append(",\"tid\":")
        .append(track).append(",\"args\":{\"name\":");
    Json.quote(sb, name).append("}}");
    emit();
  }

  private void event(TraceEvent call, String phase, long durationNanos) {
    sb.setLength(0);
    sb.append("{\"name\":");
    Json.quote(sb, call.function().name());
    sb.append(",\"ph\":\"").append(phase).append("\",\"ts\":").append(micros(call.timeNanos()));
    if (durationNanos >= 0) sb.append(",\"dur\":").append(micros(durationNanos));
    sb.append(",\"pid\":").append(pid).append(",\"tid\":").append(track(call));
    sb.append(",\"args\":{\"mid\":").append(call.tid()).append(",\"args\":");
    Json.hexArray(sb, call.values()).append("}}");
    emit();
  }

  private static String micros(long nanos) {
    return (nanos / 1000) + "." + String.format("%03d", nanos % 1000);
  }

  private void emit() {
    if (!first) write(",\n");
    first = false;
    write(sb.toString());
  }

  private void write(String s) {
    try {
      out.write(s);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the Chrome trace: " + e.getMessage(), e);
    }
  }

  @Override
  public synchronized void finish(TraceReport report) {
    for (ArrayDeque<TraceEvent> stack : open.values()) {
      while (!stack.isEmpty()) event(stack.removeLast(), "B", -1);
    }
    write("\n]}\n");
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the Chrome trace: " + e.getMessage(), e);
    }
  }
}
