package io.qpatch.proc;

import io.qpatch.sys.Sched;
import java.util.function.Supplier;

/**
 * Runs the tracer thread at real-time priority (SCHED_FIFO 1) while it holds threads of a
 * target, and at its normal priority otherwise. A held thread waits for our work, and our
 * work waits for a CPU: on a busy machine an ordinary thread waits milliseconds for one at
 * every wake-up (each remote system call wakes us twice), so the hold grows by that much.
 * At real-time priority the tracer thread runs at once, ahead of every ordinary thread but
 * behind any real-time thread of the target itself, and only for the length of a stop.
 *
 * <p>Best effort: without the right to (CAP_SYS_NICE or RLIMIT_RTPRIO, sched(7)) the work
 * runs at normal priority, and a tracer thread that already has another policy (qpatch run
 * under chrt) is left as it is. QPATCH_NO_BOOST=1 turns it off. Touched on the tracer thread only.
 */
final class Boost {
  private static final int PRIORITY = 1;
  private static final boolean OFF = "1".equals(System.getenv("QPATCH_NO_BOOST"));
  private static boolean denied = OFF;
  private static boolean active;

  private Boost() {}

  /** Runs {@code work} boosted (nested calls run inside the outer boost). */
  static <T> T during(Supplier<T> work) {
    if (active || denied || Sched.policy() != Sched.SCHED_OTHER) return work.get();
    if (Sched.setPolicy(Sched.SCHED_FIFO, PRIORITY) != 0) {
      denied = true; // not allowed: stays so for this JVM
      return work.get();
    }
    active = true;
    try {
      return work.get();
    } finally {
      active = false;
      Sched.setPolicy(Sched.SCHED_OTHER, 0);
    }
  }

  static void during(Runnable work) {
    during(() -> {
      work.run();
      return null;
    });
  }

  /** True inside {@link #during}, boosted: waiting should sleep, not yield (see ThreadSet). */
  static boolean active() {
    return active;
  }
}
