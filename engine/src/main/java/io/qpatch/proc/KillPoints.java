package io.qpatch.proc;

import io.qpatch.sys.Libc;
import io.qpatch.sys.Signals;

/**
 * Numbers every step of remote system calls and calls (frame written, thread redirected,
 * each stop, each part restored) so that a test can SIGKILL qpatch at each of them and
 * prove the target survives. Runs on the tracer thread only.
 *
 * <p>Test hooks, read once per JVM: {@code qpatch.test.remoteKillAt=N} (system property)
 * makes this JVM SIGKILL itself right after the N-th step, {@code
 * qpatch.test.remoteKillAfter=WHAT} right after the first step named WHAT ("syscall
 * released": which number that is varies with where the thread was stopped); {@code
 * qpatch.test.remoteSteps=true} prints each step on stderr as {@code qpatch-remote-step N:
 * what} first.
 */
final class KillPoints {
  private static final long KILL_AT = Long.getLong("qpatch.test.remoteKillAt", -1);
  private static final String KILL_AFTER = System.getProperty("qpatch.test.remoteKillAfter");
  private static final boolean PRINT = Boolean.getBoolean("qpatch.test.remoteSteps");
  private static long count;

  private KillPoints() {}

  static void passed(String what) {
    if (KILL_AT < 0 && KILL_AFTER == null && !PRINT) return;
    long n = ++count;
    if (PRINT) {
      io.qpatch.error.Warnings.diagnostic("qpatch-remote-step " + n + ": " + what);
    }
    if (n == KILL_AT || what.equals(KILL_AFTER)) Libc.kill((int) ProcessHandle.current().pid(), Signals.SIGKILL);
  }
}
