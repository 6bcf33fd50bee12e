package io.qpatch.error;

import java.util.function.Consumer;

/**
 * What the engine has to tell while it works and cannot throw: a probe's or a callback's
 * failure in the middle of a trace, a detach that failed at exit. The engine reports each
 * as one line without a tool name; the caller decides where it goes (the command lines
 * print it on their stderr as {@code qpatch: LINE}, a test can collect it). Until a
 * caller says otherwise, lines go to this JVM's stderr.
 */
public final class Warnings {
  private static volatile Consumer<String> listener = line -> System.err.println("qpatch: " + line);

  private Warnings() {}

  /** Reports {@code line}. */
  public static void warn(String line) {
    listener.accept(line);
  }

  /**
   * A line of the opt-in diagnostics that benchmarks and kill tests read from stderr
   * ({@code qpatch-pause}, {@code qpatch-stop}, {@code qpatch-checkpoint} ...): always this
   * JVM's stderr, flushed at once (the reader may kill us right after).
   */
  public static synchronized void diagnostic(String line) {
    System.err.println(line);
    System.err.flush();
  }

  /** Where lines go from now on; returns where they went before. */
  public static Consumer<String> listen(Consumer<String> to) {
    Consumer<String> before = listener;
    listener = to;
    return before;
  }
}
