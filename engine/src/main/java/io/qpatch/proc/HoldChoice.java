package io.qpatch.proc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Chooses the thread to hold for remote work while the others run: the one least likely
 * to notice. Held, a thread does not run; one that is blocked waiting for an event (a
 * lock, a child, input, a signal) would not have run anyway, and the kernel restarts its
 * system call after the hold with nothing visible to it (the call returns -ERESTARTSYS or
 * -ERESTARTNOHAND, turned into a restart when no handler ran: arch/x86/kernel/signal.c).
 *
 * <p>Ranked from {@code /proc/PID/task/TID/syscall} ("NR ARGS... SP PC" while blocked in
 * call NR, "-1 SP PC" when blocked outside one, "running"; proc(5)) and the state letter of
 * {@code stat}, best first:
 *
 * <ol>
 *   <li>asleep in a call that waits for an event and restarts transparently;
 *   <li>asleep in nanosleep/clock_nanosleep: a timer wakes it, maybe during the hold, which
 *       then delays it (its remaining time is kept: restart_syscall);
 *   <li>asleep in another call (epoll_wait, for one, returns EINTR to the program when
 *       interrupted, as it does for a stop of every thread or a debugger's attach);
 *   <li>anything else (running): it loses the CPU for the hold.
 * </ol>
 *
 * Ties go to the earliest thread listed (the leader first).
 */
final class HoldChoice {
  /**
   * x86-64 numbers (arch/x86/entry/syscalls/syscall_64.tbl) of calls that wait for an event
   * and are restarted after a stop: read 0, readv 19, poll 7, select 23, pause 34, accept 43,
   * recvfrom 45, recvmsg 47, wait4 61, msgrcv 69, rt_sigsuspend 130, futex 202, waitid 247,
   * pselect6 270, ppoll 271, accept4 288, futex_waitv 449.
   */
  private static final Set<Integer> EVENT_WAITS =
      Set.of(0, 19, 7, 23, 34, 43, 45, 47, 61, 69, 130, 202, 247, 270, 271, 288, 449);

  /** nanosleep 35, clock_nanosleep 230. */
  private static final Set<Integer> TIMED_SLEEPS = Set.of(35, 230);

  private HoldChoice() {}

  /** The thread to hold, and whether it was waiting for an event (the next pick's {@code waiter}). */
  record Choice(int tid, boolean waiting) {}

  /** How long a thread just held and let go may take to be back in its event wait. */
  private static final long SETTLE_NANOS = 2_000_000;

  /**
   * The thread of {@code tids} (live threads of {@code pid}, leader first) to hold. {@code
   * waiter} (0: none) is the thread the previous hold chose in an event wait: let go, it
   * takes a moment to re-enter that wait (the kernel restarts it), during which it looks
   * running and a sleeping worker would outrank it; so, when nothing else is in an event
   * wait, it is given up to 2 ms to be back there and chosen again.
   */
  static Choice pick(int pid, List<Integer> tids, int waiter) {
    int best = tids.getFirst();
    int bestRank = -1;
    for (int tid : tids) {
      int r = rankOf(pid, tid);
      if (r > bestRank) {
        best = tid;
        bestRank = r;
      }
    }
    if (bestRank >= 3 || !tids.contains(waiter)) return new Choice(best, bestRank >= 3);
    long deadline = System.nanoTime() + SETTLE_NANOS;
    while (System.nanoTime() < deadline) {
      if (rankOf(pid, waiter) == 3) return new Choice(waiter, true);
      java.util.concurrent.locks.LockSupport.parkNanos(50_000);
    }
    return new Choice(best, false);
  }


  /**
   * A thread of {@code pid} waiting for an event now (the leader first), 0 for none: read
   * before an attach, whose stop of each thread makes such a thread look running for a
   * moment after it, as the previous hold's waiter for {@link #pick}.
   */
  static int eventWaiter(int pid) {
    try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc", "" + pid, "task"))) {
      return tasks.map(t -> Integer.parseInt(t.getFileName().toString()))
          .sorted(java.util.Comparator.comparing((Integer tid) -> tid != pid).thenComparing(tid -> tid))
          .filter(tid -> rankOf(pid, tid) == 3).findFirst().orElse(0);
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** 3 to 0 as in the class comment. */
  static int rankOf(int pid, int tid) {
    return rank(read(pid, tid, "stat"), read(pid, tid, "syscall"));
  }

  /** 3 to 0 as in the class comment, from a thread's stat and syscall files ("" if unreadable). */
  static int rank(String stat, String syscall) {
    boolean asleep = state(stat) == 'S';
    String[] fields = syscall.strip().split(" ");
    if (!asleep || fields.length < 3) return 0;
    int nr;
    try {
      nr = Integer.parseInt(fields[0]);
    } catch (NumberFormatException e) {
      return 0;
    }
    if (nr < 0) return 0;
    if (EVENT_WAITS.contains(nr)) return 3;
    return TIMED_SLEEPS.contains(nr) ? 2 : 1;
  }

  /** The state letter of a stat line (after the parenthesised name, proc(5)); '?' if unreadable. */
  static char state(String stat) {
    int close = stat.lastIndexOf(')');
    return close > 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : '?';
  }

  static String read(int pid, int tid, String file) {
    try {
      return Files.readString(Path.of("/proc", "" + pid, "task", "" + tid, file));
    } catch (IOException | RuntimeException e) {
      return ""; // exited meanwhile, or unreadable: ranked last
    }
  }
}
