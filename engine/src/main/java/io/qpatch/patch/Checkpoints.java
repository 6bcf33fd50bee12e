package io.qpatch.patch;

import io.qpatch.sys.Libc;
import io.qpatch.sys.Signals;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * Numbers every change qpatch makes to a target (a memory write, a mapping made or
 * removed, a function called in it) so that a test can prove that being killed after any
 * of them leaves the target fully old or fully new and running.
 *
 * <p>Test hooks, read once per JVM: {@code qpatch.test.killAt=N} (system property) or
 * {@code QPATCH_TEST_KILL_AT=N} (environment) makes this JVM SIGKILL itself right after
 * the N-th change; {@code QPATCH_TEST_CHECKPOINTS=1} prints each change on stderr as
 * {@code qpatch-checkpoint N: what}.
 */
final class Checkpoints {
  private static final AtomicInteger COUNT = new AtomicInteger();
  private static final int KILL_AT = killAt();
  private static final boolean PRINT = "1".equals(System.getenv("QPATCH_TEST_CHECKPOINTS"));
  /** Test hook: sees each change counted, on the thread that made it; null: none. */
  private static volatile BiConsumer<String, String> observer;
  /** True while a {@link Rehearsal} runs: its changes are to a scratch process, not a target. */
  private static volatile boolean rehearsing;

  private Checkpoints() {}

  /** Called right after a change to the target has been made: {@code kind} {@code what}. */
  static void passed(String kind, String what) {
    if (rehearsing) return;
    int n = COUNT.incrementAndGet();
    if (PRINT) {
      io.qpatch.error.Warnings.diagnostic("qpatch-checkpoint " + n + ": " + kind + " " + what);
    }
    BiConsumer<String, String> o = observer;
    if (o != null) o.accept(kind, what);
    if (n == KILL_AT) Libc.kill((int) ProcessHandle.current().pid(), Signals.SIGKILL);
  }

  /** Test hook: {@code o} sees every change from now on as ({@code kind}, {@code what}); null ends it. */
  static void observe(BiConsumer<String, String> o) {
    observer = o;
  }

  /** Runs {@code work} (a rehearsal) without counting its changes. */
  static void offTheRecord(Runnable work) {
    rehearsing = true;
    try {
      work.run();
    } finally {
      rehearsing = false;
    }
  }

  /** True inside {@link #offTheRecord}. */
  static boolean rehearsing() {
    return rehearsing;
  }

  /** Loads this class (reads the test hooks) ahead of a stop of the target. */
  static void load() {
    // the static initialiser has run
  }

  private static int killAt() {
    String value = System.getProperty("qpatch.test.killAt", System.getenv("QPATCH_TEST_KILL_AT"));
    if (value == null || value.isBlank()) return -1;
    try {
      return Integer.parseInt(value.strip());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
