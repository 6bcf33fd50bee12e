package io.qpatch.proc;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import io.qpatch.sys.Libc;
import io.qpatch.sys.WaitFlags;

/**
 * The one platform thread that owns every ptrace and waitpid call. Linux accepts
 * ptrace requests only from the thread that attached the tracee (others get ESRCH), so
 * all threads of qpatch (JShell, scripts, CLI) submit their work here with {@link
 * #call}. Between tasks it polls the attached targets for events (a signal the target
 * was sent, a new thread) so that a running target is never kept waiting on us.
 */
public final class Tracer {
  /** Event pumps are polled from 20 us after activity up to every 2 ms when idle. */
  private static final long MIN_IDLE_NANOS = 20_000;

  private static final long MAX_IDLE_NANOS = 2_000_000;

  private static final Tracer INSTANCE = new Tracer("qpatch-tracer");
  /** The tracer a thread's new targets are attached with, when it is not the engine's one ({@link #with}). */
  private static final ThreadLocal<Tracer> CHOSEN = new ThreadLocal<>();
  /** Tracers of their own for work on many targets at once ({@link #pool}), made on first use. */
  private static final List<Tracer> POOL = new ArrayList<>();

  /** Something with events to collect: a target's threads. Runs on the tracer thread. */
  interface EventPump {
    /** Handles whatever events are ready, without blocking; true if there were any. */
    boolean pump();
  }

  private final LinkedBlockingQueue<FutureTask<?>> tasks = new LinkedBlockingQueue<>();
  private final List<EventPump> pumps = new ArrayList<>();
  private final Thread thread;
  /** Set while a blocking event loop owns the thread: new tasks must wake it. */
  private volatile Runnable wakeHook;

  private final Waker waker = new Waker();
  /** Wakes {@link #awaitStatus} at its deadline; made on first use. */
  private java.util.concurrent.ScheduledExecutorService watchdog;

  private Tracer(String name) {
    thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this::loop);
    thread.start();
  }

  /**
   * The tracer of the calling thread: on a tracer thread, that tracer; on a thread inside
   * {@link #with}, the one it chose; else the engine's one. A target keeps the tracer it
   * was attached with (ptrace answers only the thread that attached).
   */
  public static Tracer get() {
    Tracer chosen = CHOSEN.get();
    return chosen != null ? chosen : INSTANCE;
  }

  /**
   * {@code n} tracers of their own (each its own thread, and waker when it first holds a
   * thread), the same ones on every call: a command on many processes attaches each with
   * one of them ({@link #with}), so that the stops and holds of different processes, each
   * bounded by how soon its thread is scheduled, go on side by side instead of one after
   * another on the one tracer thread.
   */
  public static synchronized List<Tracer> pool(int n) {
    while (POOL.size() < n) POOL.add(new Tracer("qpatch-tracer-" + (POOL.size() + 1)));
    return List.copyOf(POOL.subList(0, n));
  }

  /** Runs {@code work} on the calling thread with {@code tracer} as the one its new targets are attached with. */
  public static <T> T with(Tracer tracer, java.util.function.Supplier<T> work) {
    Tracer before = CHOSEN.get();
    CHOSEN.set(tracer);
    try {
      return work.get();
    } finally {
      if (before == null) CHOSEN.remove();
      else CHOSEN.set(before);
    }
  }

  /** True when called on the tracer thread itself. */
  public boolean isTracerThread() {
    return Thread.currentThread() == thread;
  }

  /**
   * Runs {@code work} on the tracer thread and returns its result; its exceptions are
   * rethrown here unchanged. Called on the tracer thread, it runs inline.
   */
  public <T> T call(Callable<T> work) {
    if (isTracerThread()) return callInline(work);
    FutureTask<T> task = new FutureTask<>(work);
    tasks.add(task);
    Runnable wake = wakeHook;
    if (wake != null) wake.run();
    try {
      return task.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the tracer thread", e);
    } catch (ExecutionException e) {
      throw rethrow(e.getCause());
    }
  }

  /** {@link #call} for work without a result. */
  public void run(Runnable work) {
    call(
        () -> {
          work.run();
          return null;
        });
  }

  /**
   * Runs a blocking event loop ({@link BlockingEvents}) on the tracer thread until {@code
   * until} is true: for tracing, where every breakpoint stop must be answered at once.
   * Work submitted with {@link #call} meanwhile runs between events. Called from another
   * thread it blocks that thread until the loop ends.
   */
  public void serveEvents(BooleanSupplier until) {
    run(() -> BlockingEvents.serve(this, waker, until));
  }

  /**
   * Blocks the tracer thread until one of its tracees reports a status, or until {@code
   * deadlineNanos} (System.nanoTime). Returns the tid, its status in {@code status[0]}, or
   * 0 at the deadline. Statuses that are not {@code mine} go where they belong first (the
   * waker, or any attached target, as the blocking loop delivers them), so that nothing
   * collected here is lost.
   *
   * <p>Why block rather than poll: a tracer that polls with short sleeps at real-time
   * priority ({@link Boost}) preempts the very thread it waits for whenever the two share
   * a CPU. Seen on the 2-CPU VM (perf sched): a thread interrupted in nanosleep needed 6
   * to 46 ms to reach its stop, running 20 us at a time between our 10 us sleeps. Blocked
   * in waitpid, we take no CPU until the stop is reported, then run at once.
   *
   * <p>waitpid has no timeout: a watchdog thread wakes the {@link Waker} at the deadline.
   */
  int awaitStatus(long deadlineNanos, int[] status, java.util.function.IntPredicate mine) {
    assertTracerThread();
    waker.ensureStarted();
    java.util.concurrent.ScheduledFuture<?> alarm = watchdog().schedule(
        waker::wake, Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    try {
      while (true) {
        waker.rearm();
        if (System.nanoTime() - deadlineNanos >= 0) return 0;
        int tid = Libc.waitpid(-1, status, WaitFlags.__WALL | BlockingEvents.WNOTHREAD);
        if (mine.test(tid)) return tid;
        BlockingEvents.deliver(this, waker, tid, status[0]);
      }
    } finally {
      alarm.cancel(false);
    }
  }

  /** Starts the waker and the watchdog ahead of a hold, so that a first wait does not. */
  void prepareWaits() {
    assertTracerThread();
    waker.ensureStarted();
    watchdog();
  }

  private java.util.concurrent.ScheduledExecutorService watchdog() {
    if (watchdog == null) {
      watchdog = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().name("qpatch-watchdog").daemon(true).unstarted(r));
    }
    return watchdog;
  }

  /** Makes a running {@link #serveEvents} loop check its condition again soon. */
  public void wake() {
    Runnable wake = wakeHook;
    if (wake != null) wake.run();
  }

  void setWakeHook(Runnable hook) {
    wakeHook = hook;
  }

  /** Runs the tasks queued so far, inline: for a loop that owns the tracer thread. */
  void runQueued() {
    FutureTask<?> task;
    while ((task = tasks.poll()) != null) task.run();
  }

  List<EventPump> pumps() {
    return List.copyOf(pumps);
  }

  void addPump(EventPump pump) {
    assertTracerThread();
    pumps.add(pump);
  }

  void removePump(EventPump pump) {
    assertTracerThread();
    pumps.remove(pump);
  }

  void assertTracerThread() {
    if (!isTracerThread()) {
      throw new IllegalStateException("ptrace work must run on the tracer thread (Tracer.call)");
    }
  }

  private void loop() {
    CHOSEN.set(this); // code on this thread (awaitStatus callers, pumps) finds its own tracer
    long idle = MIN_IDLE_NANOS;
    while (true) {
      FutureTask<?> task = nextTask(idle);
      if (task != null) {
        task.run();
        idle = MIN_IDLE_NANOS;
        continue;
      }
      boolean busy = false;
      for (EventPump p : List.copyOf(pumps)) busy |= pumpSafely(p);
      if (anyFollowsForks()) busy |= pumpSafely(() -> BlockingEvents.pollOnce(this, waker));
      idle = busy ? MIN_IDLE_NANOS : Math.min(idle * 2, MAX_IDLE_NANOS);
    }
  }

  private boolean anyFollowsForks() {
    for (EventPump p : pumps) {
      if (p instanceof ThreadSet ts && ts.forkHandler() != null && !ts.live().isEmpty()) return true;
    }
    return false;
  }

  private FutureTask<?> nextTask(long idleNanos) {
    try {
      return pumps.isEmpty() ? tasks.take() : tasks.poll(idleNanos, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      return null; // nobody interrupts the tracer; keep serving
    }
  }

  private static boolean pumpSafely(EventPump p) {
    try {
      return p.pump();
    } catch (RuntimeException e) {
      // A pump that fails (its target vanished) must not take the tracer thread down.
      io.qpatch.error.Warnings.warn("event handling failed: " + e.getMessage());
      return false;
    }
  }

  private static <T> T callInline(Callable<T> work) {
    try {
      return work.call();
    } catch (Exception e) {
      throw rethrow(e);
    }
  }

  private static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) throw r;
    if (t instanceof Error e) throw e;
    throw new IllegalStateException(t);
  }
}
