package io.qpatch;

import io.qpatch.error.QpatchException;
import java.util.function.Consumer;

/**
 * What a script callback that throws costs: the first failure is reported on stderr in one
 * line naming what it was for, the rest only counted, so a callback that fails on every
 * call of a hot function cannot flood the terminal. The breakpoint or trace keeps going.
 * Written on the tracer thread, read from any.
 */
final class Failures {
  private final String what;
  private volatile long count;

  /** @param what names the callback's owner in the report: "onCall(malloc)" */
  Failures(String what) {
    this.what = what;
  }

  /** Runs {@code callback} on {@code value}; a throw is reported or counted, not passed on. */
  <T> void guard(Consumer<T> callback, T value) {
    try {
      callback.accept(value);
    } catch (RuntimeException e) {
      add(e);
    }
  }

  void add(RuntimeException e) {
    if (count++ > 0) return;
    io.qpatch.error.Warnings.warn(what + " callback failed: " + oneLine(e)
        + " (it keeps running; later failures are only counted)");
  }

  long count() {
    return count;
  }

  /** At the end: how many failed after the one reported. */
  void reportRest() {
    if (count > 1) io.qpatch.error.Warnings.warn(what + ": " + (count - 1) + " more callback failures");
  }

  private static String oneLine(RuntimeException e) {
    String text = e instanceof QpatchException ? e.getMessage() : e.toString();
    return text == null ? e.getClass().getName() : text.lines().findFirst().orElse(text);
  }
}
