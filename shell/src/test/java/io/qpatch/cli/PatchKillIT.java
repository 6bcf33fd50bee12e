package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.patch.Programs;
import io.qpatch.patch.RunningTarget;
import io.qpatch.testing.Fixtures;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * qpatch SIGKILLed after each change it makes to the target, in turn (hidden test hook
 * QPATCH_TEST_KILL_AT=N: the N-th memory write, mapping or call): the target must keep
 * running with all of the patch's functions old or all new, and the next command must
 * finish the job or say clearly what it found. The patch replaces two functions, so a
 * half-switched state would show as a mixed line.
 */
class PatchKillIT {
  private static final String OLD = "tick 1 7";
  private static final String NEW = "tick 2 8";

  @TempDir Path dir;

  @Test
  void killed_at_every_step_of_apply_the_target_runs_old_or_new_and_rollback_cleans_up() {
    Path patch = Fixtures.object("both", Programs.BOTH);
    try (RunningTarget target = ticker()) {
      String clean = target.maps();
      int n = 1;
      for (; ; n++) {
        Launcher.Result r = Launcher.qpatch(killAt(n), "apply", "-o", patch.toString(), "-p", "" + target.pid());
        if (!r.killed()) {
          assertEquals(0, r.exit(), r.toString());
          break;
        }
        String state = settled(target, "apply killed at step " + n);
        assertQueryWorks(target);
        rollBack(target, patch, "apply killed at step " + n + " (" + state + ")");
        assertEquals(clean, target.maps(), "maps after apply killed at step " + n);
      }
      assertTrue(n > 15, "apply has " + (n - 1) + " steps");
      assertEquals("new", settled(target, "apply completed"));
    }
  }

  @Test
  void killed_at_every_step_of_rollback_the_target_runs_old_or_new_and_a_second_rollback_finishes() {
    Path patch = Fixtures.object("both", Programs.BOTH);
    try (RunningTarget target = ticker()) {
      String clean = target.maps();
      int n = 1;
      for (; ; n++) {
        Launcher.Result applied = Launcher.qpatch(Map.of("QPATCH_NO_REHEARSAL", "1"),
            "apply", "-o", patch.toString(), "-p", "" + target.pid());
        assertEquals(0, applied.exit(), applied.toString());
        Launcher.Result r = Launcher.qpatch(killAt(n), "-o", patch.toString(), "-p", "" + target.pid(), "-r");
        if (!r.killed()) {
          assertEquals(0, r.exit(), r.toString());
          break;
        }
        String state = settled(target, "rollback killed at step " + n);
        assertQueryWorks(target);
        rollBack(target, patch, "rollback killed at step " + n + " (" + state + ")");
        assertEquals(clean, target.maps(), "maps after rollback killed at step " + n);
      }
      assertTrue(n > 5, "rollback has " + (n - 1) + " steps");
      assertEquals(clean, target.maps());
    }
  }

  private RunningTarget ticker() {
    RunningTarget t = RunningTarget.start(dir.resolve("out"), Fixtures.c("ticker", Programs.TICKER, "-O2"));
    t.awaitOutput(o -> o.contains(OLD), Duration.ofSeconds(5));
    return t;
  }

  /** The kill hook; no rehearsal on a scratch process (it changes no target, and costs time). */
  private static Map<String, String> killAt(int n) {
    return Map.of("QPATCH_TEST_KILL_AT", Integer.toString(n), "QPATCH_NO_REHEARSAL", "1");
  }

  /**
   * The target's behaviour once the killed command is gone: every line printed over the
   * next 150 ms but the first (which may straddle the moment it changed) is the same, old
   * or new. Returns it.
   */
  private static String settled(RunningTarget target, String when) {
    int mark = target.output().length();
    RunningTarget.sleep(150);
    assertTrue(target.isAlive(), "the target died after " + when);
    List<String> lines = target.output().substring(mark).lines().toList();
    assertTrue(lines.size() >= 3, "the target stopped printing after " + when + ": " + lines);
    List<String> settled = lines.subList(1, lines.size() - 1);
    String first = settled.getFirst();
    assertTrue((first.equals(OLD) || first.equals(NEW)) && settled.stream().allMatch(first::equals),
        "after " + when + " the target printed " + lines);
    return first.equals(OLD) ? "old" : "new";
  }

  /** {@code -q} after a kill: exit 0, every line about a patch or a clear problem. */
  private static void assertQueryWorks(RunningTarget target) {
    CliRun q = CliRun.of(EngineCommands::new, "qpatch", "-p", "" + target.pid(), "-q");
    assertEquals(0, q.exit(), q.err());
  }

  /** {@code -r} finishes what was left: the old behaviour, no qpatch mapping; or "not loaded". */
  private static void rollBack(RunningTarget target, Path patch, String when) {
    CliRun r = CliRun.of(EngineCommands::new, "qpatch", "-o", patch.toString(), "-p", "" + target.pid(), "-r");
    boolean notLoaded = r.exit() == 1 && r.err().contains(" is not loaded in pid ");
    assertTrue(r.exit() == 0 || notLoaded, when + ": " + r.out() + r.err());
    assertEquals("old", settled(target, when + ", then -r"));
  }
}
