package io.qpatch.trace;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Plans added while a backend runs ({@link Backend#addWhileRunning}), planted by the one
 * thread that owns the backend's tables: the adder waits until its plan is planted, so
 * that a thread held at the loader's gate ({@link LoaderGate}) goes on only once the new
 * library is probed.
 */
final class LaterPlans {
  /** Longer than a poll of the owning thread; shorter than the gate's wait. */
  private static final long WAIT_MILLIS = 1_500;

  private record Later(ProbePlan plan, CompletableFuture<Boolean> planted) {}

  private final java.util.Queue<Later> queue = new java.util.concurrent.ConcurrentLinkedQueue<>();
  private volatile boolean closed;

  /** Queues {@code plan}, runs {@code wake} (to rouse the owner), and waits; false when the owner stopped first. */
  boolean addAndWait(ProbePlan plan, Runnable wake) {
    if (closed) return false;
    Later l = new Later(plan, new CompletableFuture<>());
    queue.add(l);
    if (closed) drop();
    wake.run();
    try {
      return l.planted().get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** On the owning thread: plants each queued plan with {@code plant} and lets its adder go. */
  void plantEach(Consumer<ProbePlan> plant) {
    for (Later l; (l = queue.poll()) != null; ) {
      try {
        plant.accept(l.plan());
        l.planted().complete(true);
      } catch (RuntimeException e) {
        l.planted().completeExceptionally(e);
        throw e;
      }
    }
  }

  /** The owner stops: adders waiting now, or later, get false. */
  void close() {
    closed = true;
    drop();
  }

  private void drop() {
    for (Later l; (l = queue.poll()) != null; ) l.planted().complete(false);
  }
}
