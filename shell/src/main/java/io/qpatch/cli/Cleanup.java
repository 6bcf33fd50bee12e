package io.qpatch.cli;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Undo actions that run once, last added first: on {@link #close()}, or from a shutdown
 * hook when the JVM is stopped by Ctrl-C or SIGTERM (a {@code finally} block does not
 * run then). Whichever comes second waits for the first to finish, so that the JVM does
 * not exit halfway through.
 */
final class Cleanup implements AutoCloseable {
  private final Deque<Runnable> actions = new ArrayDeque<>();
  private final Thread hook = new Thread(this::runOnce, "qpatch-cleanup");
  private boolean done;

  Cleanup() {
    Runtime.getRuntime().addShutdownHook(hook);
  }

  synchronized void add(Runnable action) {
    actions.push(action);
  }

  @Override
  public void close() {
    runOnce();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // The JVM is already shutting down: the hook found the actions done.
    }
  }

  /** Runs every action even if one fails; the first failure is rethrown at the end. */
  private synchronized void runOnce() {
    if (done) {
      return;
    }
    done = true;
    RuntimeException first = null;
    while (!actions.isEmpty()) {
      try {
        actions.pop().run();
      } catch (RuntimeException e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
