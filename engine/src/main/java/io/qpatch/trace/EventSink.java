package io.qpatch.trace;

/**
 * An output format: gets every event in order, on one thread, then {@link #finish} once.
 */
public interface EventSink {
  /** The trace begins: probes are planted in process {@code pid}. */
  default void start(int pid) {}

  void accept(TraceEvent event);

  /** The trace is over: write what is left (a summary, the closing bracket) and flush. */
  default void finish(TraceReport report) {}

  /** Pushes buffered output out; may be called from another thread (a timer). */
  default void flush() {}
}
