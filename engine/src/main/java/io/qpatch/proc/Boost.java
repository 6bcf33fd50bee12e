package io.qpatch.proc;

import io.qpatch.sys.Sched;
import java.util.List;
import java.util.function.Supplier;

/**
 * Runs the tracer thread at real-time priority (SCHED_FIFO 1) while it holds threads of a
 * target, and at its normal priority otherwise. A held thread waits for our work, and our
 * work waits for a CPU: on a busy machine an ordinary thread waits milliseconds for one at
 * every wake-up (each remote system call wakes us twice), so the hold grows by that much.
 * At real-time priority the tracer thread runs at once, ahead of every ordinary thread but
 * behind any real-time thread of the target itself, and only for the length of a stop.
 *
 * <p>Meanwhile this JVM's JIT compiler threads run SCHED_IDLE: a held thread that has to
 * run (to reach its stop, or the system call we make it run) then preempts them at once.
 * Seen without (perf sched, 2-CPU VM): a woken target thread waited 1.3 ms on the CPU a C2
 * compilation held, the other CPU idle. The compiler threads alone: nothing of ours waits
 * for a compilation, whereas a GC or safepoint thread starved by a busy target would stall
 * the tracer itself.
 *
 * <p>Best effort: without the right to (CAP_SYS_NICE or RLIMIT_RTPRIO, sched(7)) the work
 * runs at normal priority, and a tracer thread that already has another policy (qpatch run
 * under chrt) is left as it is. QPATCH_NO_BOOST=1 turns it off. Per tracer thread; the compilers idle while any is boosted.
 */
final class Boost {
  private static final int PRIORITY = 1;
  private static final boolean OFF = "1".equals(System.getenv("QPATCH_NO_BOOST"));
  private static volatile boolean denied = OFF;
  /** Whether the calling tracer thread is boosted now (a fleet command has several, {@link Tracer#pool}). */
  private static final ThreadLocal<Boolean> ACTIVE = ThreadLocal.withInitial(() -> false);

  private Boost() {}

  /** Runs {@code work} boosted (nested calls run inside the outer boost). */
  static <T> T during(Supplier<T> work) {
    if (ACTIVE.get() || denied || Sched.policy() != Sched.SCHED_OTHER) return work.get();
    if (Sched.setPolicy(Sched.SCHED_FIFO, PRIORITY) != 0) {
      denied = true; // not allowed: stays so for this JVM
      return work.get();
    }
    ACTIVE.set(true);
    Compilers.idle();
    try {
      return work.get();
    } finally {
      ACTIVE.set(false);
      Sched.setPolicy(Sched.SCHED_OTHER, 0);
      Compilers.restore();
    }
  }

  /** This JVM's JIT compiler threads (comm "C1 CompilerThre", "C2 CompilerThre"), looked up at most every 100 ms. */
  private static final class Compilers {
    private static List<Integer> tids = List.of();
    private static long lookedUp;
    /** Boosts in progress: the compilers idle from the first to the end of the last. */
    private static int boosts;
    private static List<Integer> changed = List.of();

    /** Makes the compiler threads SCHED_IDLE, unless another boost has already. */
    static synchronized void idle() {
      if (boosts++ > 0) return;
      if (System.nanoTime() - lookedUp > 100_000_000L || lookedUp == 0) {
        tids = lookUp();
        lookedUp = System.nanoTime();
      }
      List<Integer> made = new java.util.ArrayList<>(tids.size());
      for (int tid : tids) {
        if (Sched.setPolicy(tid, Sched.SCHED_IDLE, 0) == 0) made.add(tid);
      }
      changed = made;
    }

    /** The last boost ends: the compiler threads run at their normal policy again. */
    static synchronized void restore() {
      if (--boosts > 0) return;
      for (int tid : changed) Sched.setPolicy(tid, Sched.SCHED_OTHER, 0);
      changed = List.of();
    }

    private static List<Integer> lookUp() {
      int self = (int) ProcessHandle.current().pid();
      java.nio.file.Path tasks = java.nio.file.Path.of("/proc/self/task");
      try (java.util.stream.Stream<java.nio.file.Path> s = java.nio.file.Files.list(tasks)) {
        return s.map(p -> Integer.parseInt(p.getFileName().toString()))
            .filter(tid -> HoldChoice.read(self, tid, "comm").matches("C[12] CompilerThre.*\\s*"))
            .toList();
      } catch (java.io.IOException | RuntimeException e) {
        return List.of();
      }
    }
  }

  static void during(Runnable work) {
    during(() -> {
      work.run();
      return null;
    });
  }
}
