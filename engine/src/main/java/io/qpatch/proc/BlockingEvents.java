package io.qpatch.proc;

import io.qpatch.error.SyscallException;
import io.qpatch.sys.Errno;
import io.qpatch.sys.Libc;
import io.qpatch.sys.WaitFlags;
import java.util.function.BooleanSupplier;

/**
 * A blocking event loop for tracing, run on the tracer thread instead of the polling one
 * ({@link Tracer}'s loop polls each thread with WNOHANG and backs off up to 2 ms, fine
 * for patching, far too slow when every traced call is a breakpoint stop).
 *
 * <p>It blocks in {@code waitpid(-1, __WALL | __WNOTHREAD)}. __WNOTHREAD limits the wait
 * to the tracer thread's own tracees and children (kernel/exit.c, do_wait: without it
 * every thread's children are waited for): children the JVM starts from other threads
 * (ProcessBuilder, whose reaper thread must collect them) are never reaped here. The
 * only children of the tracer thread are targets started by {@link Launch} and the
 * {@link Waker}, which interrupts the wait when another thread submits work or asks the
 * loop to end.
 */
final class BlockingEvents {
  /** __WNOTHREAD (linux/wait.h): wait only for children of the calling thread. */
  static final int WNOTHREAD = 0x20000000;

  private BlockingEvents() {}

  /**
   * Serves events of every attached target until {@code until} is true (checked after
   * each event and each wake-up). Tasks submitted with {@link Tracer#call} meanwhile run
   * in between events.
   */
  static void serve(Tracer tracer, Waker waker, BooleanSupplier until) {
    tracer.assertTracerThread();
    waker.ensureStarted();
    tracer.setWakeHook(waker::wake);
    int[] status = new int[1];
    try {
      while (true) {
        waker.rearm();
        tracer.runQueued();
        if (until.getAsBoolean()) return;
        waker.ensureStarted();
        int tid;
        try {
          tid = next(status);
        } catch (SyscallException e) {
          if (e.errno() == Errno.ECHILD) return; // nothing left to wait for
          throw e;
        }
        if (tid != 0) deliver(tracer, waker, tid, status[0]);
      }
    } finally {
      tracer.setWakeHook(null);
    }
  }

  /**
   * The next status: polled (WNOHANG) for a short while first, then waited for. A traced
   * thread that has just been let go usually stops again within microseconds; answering
   * without having gone to sleep saves the cross-CPU wake-up, which dominates the cost of
   * a probe hit on small virtual machines (measured here: 55 us per hit blocking, ~20 us
   * when tracer and target share a CPU).
   *
   * <p>Between polls the CPU is yielded (sched_yield: Thread.yield on Linux), not spun on:
   * when the thread we wait for, or a JIT compiler thread, is queued on this CPU it runs
   * at once instead of after the whole spin. Measured on the 2-CPU VM (bench/trace-bench,
   * 20000 calls): with a busy spin 5-10% of hits outlasted the 100 us spin and blocked,
   * with yields ~0.1%; per call C 25-31 us became 20-25 us, Go 28-37 us 24-30 us.
   */
  private static int next(int[] status) {
    long deadline = System.nanoTime() + SPIN_NANOS;
    do {
      int tid = Libc.waitpid(-1, status, WaitFlags.__WALL | WNOTHREAD | WaitFlags.WNOHANG);
      if (tid != 0) return tid;
      Thread.yield();
    } while (System.nanoTime() < deadline);
    return Libc.waitpid(-1, status, WaitFlags.__WALL | WNOTHREAD);
  }

  /**
   * One sweep without blocking, for the tracer's idle loop while a target follows forks:
   * a forked child is not one of the target's threads, so no per-thread poll sees its
   * stops, and until it is answered it (and a parent waiting for it) would hang. Returns
   * true when a status was collected.
   */
  static boolean pollOnce(Tracer tracer, Waker waker) {
    int[] status = new int[1];
    boolean any = false;
    while (true) {
      int tid;
      try {
        tid = Libc.waitpid(-1, status, WaitFlags.__WALL | WNOTHREAD | WaitFlags.WNOHANG);
      } catch (SyscallException e) {
        if (e.errno() == Errno.ECHILD) return any;
        throw e;
      }
      if (tid == 0) return any;
      any = true;
      deliver(tracer, waker, tid, status[0]);
    }
  }

  /** How long to poll before blocking. */
  static final long SPIN_NANOS = Long.getLong("qpatch.trace.spinNanos", 100_000);

  /** A collected status to whoever it belongs to: the waker, or a target (see dispatch). */
  static void deliver(Tracer tracer, Waker waker, int tid, int rawStatus) {
    if (waker.owns(tid)) waker.onStatus(rawStatus);
    else dispatch(tracer, tid, rawStatus);
  }

  /**
   * Gives the status to the target that owns {@code tid}; else, when a target follows
   * forks, to its fork handler (a process it forked); else it is dropped.
   */
  private static void dispatch(Tracer tracer, int tid, int rawStatus) {
    for (Tracer.EventPump p : tracer.pumps()) {
      if (p instanceof ThreadSet ts && ts.dispatch(tid, rawStatus)) return;
    }
    int parent = parentOf(tid);
    for (Tracer.EventPump p : tracer.pumps()) {
      if (p instanceof ThreadSet ts && ts.pid == parent && ts.forkHandler() != null) {
        ts.forkHandler().onChildStatus(tid, rawStatus);
        return;
      }
    }
  }

  /** PPid in /proc/PID/status (proc(5)); -1 when the process is gone. */
  private static int parentOf(int pid) {
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc", Integer.toString(pid), "status"))) {
        if (line.startsWith("PPid:")) return Integer.parseInt(line.substring(5).trim());
      }
    } catch (java.io.IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }
}
