package io.qpatch.trace;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Keeps every event, and the text lines as gotrace prints them. */
final class CollectingSink implements EventSink {
  final List<TraceEvent> events = new ArrayList<>();
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final TextFormat text = new TextFormat(new PrintStream(bytes, true, StandardCharsets.UTF_8), true);
  TraceReport report;

  @Override
  public synchronized void accept(TraceEvent event) {
    events.add(event);
    text.accept(event);
  }

  @Override
  public synchronized void finish(TraceReport report) {
    this.report = report;
  }

  synchronized String text() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  synchronized List<TraceEvent> calls(String function) {
    return events.stream().filter(e -> e.isCall() && e.function().name().equals(function)).toList();
  }

  synchronized List<TraceEvent> returns(String function) {
    return events.stream().filter(e -> !e.isCall() && e.function().name().equals(function)).toList();
  }
}
