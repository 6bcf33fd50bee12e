package io.qpatch;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * When and where a process's script callbacks run: only while the script waits for events
 * ({@link TargetProcess#run}, a trace), so a callback never runs concurrently with the
 * script (no locking in scripts). A hit while the script does something else runs no
 * callback: the caller counts it as missed.
 *
 * <p>Hits and events arrive on the tracer thread, and the callback runs there, the
 * script's thread parked meanwhile. A script engine that lets only one thread into a
 * script (GraalJS refuses a second thread while the first waits in a Java call) sets
 * {@link #HAND_OFF_PROPERTY}: each callback is then handed to the script's own thread and
 * the tracer thread waits until it is done, while a helper thread waits for the events.
 * That costs two thread switches per hit (measured here, on a loaded 2-CPU machine:
 * ~260 us per hit handed off, ~100 us run in place).
 *
 * <p>While a callback runs the tracer thread waits for it, so the callback must not ask
 * the tracer thread for work (stop, call, threads ...): {@link #refuseInCallback} says so
 * instead of deadlocking.
 */
final class Callbacks {
  /** System property: "true" hands callbacks to the script's thread (the JS build sets it). */
  static final String HAND_OFF_PROPERTY = "qpatch.callbacks.handOff";

  private static final FutureTask<Void> END = new FutureTask<>(() -> {}, null);

  /** The script thread's queue while it serves; null when no script thread waits. */
  private BlockingQueue<FutureTask<?>> queue;
  /** The thread running a callback now, or null. */
  private volatile Thread inCallback;
  /** True while a script thread waits and callbacks run in place. */
  private volatile boolean servingInPlace;

  /**
   * Runs {@code callback} on the serving script thread and waits for it; returns false,
   * without running it, when no script thread serves.
   */
  boolean run(Runnable callback) {
    if (servingInPlace) {
      runMarked(callback);
      return true;
    }
    FutureTask<Void> task = new FutureTask<>(() -> runMarked(callback), null);
    synchronized (this) {
      if (queue == null) return false;
      queue.add(task);
    }
    await(task);
    return true;
  }

  private void runMarked(Runnable callback) {
    inCallback = Thread.currentThread();
    try {
      callback.run();
    } finally {
      inCallback = null;
    }
  }

  /**
   * Runs {@code work}, which waits for events, with callbacks allowed; returns when it is
   * done, rethrowing its failure. With hand-off, {@code work} runs on a helper thread while
   * this one runs the callbacks handed to it.
   */
  void serve(Runnable work) {
    if (!Boolean.getBoolean(HAND_OFF_PROPERTY)) {
      serveInPlace(work);
      return;
    }
    BlockingQueue<FutureTask<?>> q = new LinkedBlockingQueue<>();
    FutureTask<Void> done = new FutureTask<>(work, null);
    synchronized (this) {
      if (queue != null) throw new IllegalStateException("already waiting for events of this process");
      queue = q;
    }
    Thread.ofPlatform().daemon().name("qpatch-events").start(() -> {
      done.run();
      q.add(END);
    });
    try {
      for (FutureTask<?> t = take(q); t != END; t = take(q)) t.run();
    } finally {
      synchronized (this) {
        queue = null;
      }
      for (FutureTask<?> t = q.poll(); t != null; t = q.poll()) t.run(); // handed over just before
    }
    await(done);
  }

  private void serveInPlace(Runnable work) {
    synchronized (this) {
      if (servingInPlace) throw new IllegalStateException("already waiting for events of this process");
      servingInPlace = true;
    }
    try {
      work.run();
    } finally {
      servingInPlace = false;
    }
  }

  /** Throws when called from inside a callback: {@code what} would wait for the tracer thread. */
  void refuseInCallback(String what) {
    if (inCallback == Thread.currentThread()) {
      throw new IllegalStateException(what + " cannot be used inside a callback (the tracer thread"
          + " waits for the callback to finish); use the Call's methods, or do it after run()");
    }
  }

  private static FutureTask<?> take(BlockingQueue<FutureTask<?>> q) {
    try {
      return q.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for events", e);
    }
  }

  private static void await(FutureTask<?> task) {
    try {
      task.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) throw r;
      if (e.getCause() instanceof Error err) throw err;
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while a callback ran", e);
    }
  }
}
