package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import io.qpatch.testing.RecipeFixtures;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The recipes over scripted breakpoints and traces (scripts/count-calls.jsh,
 * stub-for-test.jsh, trace-go.jsh), each run with {@code qpatch run} against a live fixture.
 */
class ScriptRecipesTest {
  private static final Path REPO = Path.of(System.getProperty("qpatch.repo"));

  @TempDir Path tmp;

  static Path recipe(String name) {
    return REPO.resolve("scripts").resolve(name);
  }

  private LiveProcess start(Path exe) {
    LiveProcess p = LiveProcess.start(tmp.resolve("out"), exe.toString());
    p.awaitOutput(o -> o.contains("ready"), Duration.ofSeconds(10));
    return p;
  }

  private static CliRun run(String... args) {
    String[] argv = new String[args.length + 2];
    argv[0] = "qpatch";
    argv[1] = "run";
    System.arraycopy(args, 0, argv, 2, args.length);
    return CliRun.of(Commands::forThisBuild, argv);
  }

  @Test
  void countCallsRecipeCountsMallocAndItsBytesPerThread() {
    try (LiveProcess p = start(RecipeFixtures.allocator())) {
      CliRun run = run(recipe("count-calls.jsh").toString(), "" + p.pid(), "malloc", "0.5");
      assertEquals(0, run.exit(), run.err());
      assertTrue(run.out().startsWith("counting calls of malloc in pid " + p.pid() + " for 0.5 s\n"
          + "TID        THREAD                CALLS         ARG0 SUM\n"), run.out());
      RecipeFixtures.assertAllocatorTable(run.out());
      assertEquals("", run.err());
      assertTrue(p.isAlive());
    }
  }

  @Test
  void countCallsRecipeWithoutPidPrintsUsage() {
    CliRun run = run(recipe("count-calls.jsh").toString());
    assertEquals(new CliRun(2, "", "usage: qpatch run scripts/count-calls.jsh PID [SYMBOL] [SECONDS]\n"), run);
  }

  @Test
  void stubForTestRecipeRunsItsScenarioOnAPreparedStateThenRollsBack() {
    Path exe = tmp.resolve("account");
    Path stub = tmp.resolve("account-stub.o");
    Fixtures.run(List.of("gcc", "-O1", REPO.resolve("examples/account.c").toString(), "-o", exe.toString()));
    Fixtures.run(List.of("gcc", "-c", REPO.resolve("examples/account-stub.c").toString(), "-o", stub.toString()));
    try (LiveProcess p = LiveProcess.start(tmp.resolve("out"), exe.toString())) {
      p.awaitOutput(o -> o.contains("balance 100"), Duration.ofSeconds(5));
      CliRun run = run(recipe("stub-for-test.jsh").toString(), "" + p.pid(), stub.toString());
      assertEquals(new CliRun(0, """
          loaded account-stub.o: init ran
          ok   withdraw(100) = 895
          ok   withdraw(2000) = -1
          ok   withdraw(10) = 880
          ok   fee(123456) = 5
          rolled back account-stub.o: fee(123456) = 1235
          PASS
          """, ""), run);
      int from = p.output().length();
      String after = p.awaitOutput(o -> o.substring(from).contains("\n"), Duration.ofSeconds(5)).substring(from);
      assertTrue(after.startsWith("balance 100\n"), "the rollback callback restored the balance: " + after);
    }
  }

  @Test
  void traceGoRecipePrintsTheSummaryOfMainFunctions() {
    Path exe = RecipeFixtures.goWorker();
    try (LiveProcess p = start(exe)) {
      CliRun run = run(recipe("trace-go.jsh").toString(), "" + p.pid(), "1");
      assertEquals(0, run.exit(), run.err());
      String out = run.out();
      assertTrue(out.startsWith("tracing ^main\\. in pid " + p.pid() + " for 1.0 s\nFUNCTION "), out);
      RecipeFixtures.assertGoWorkerSummary(out);
      assertTrue(run.err().contains("probed with ptrace"), run.err());
      assertTrue(p.isAlive());
    }
  }
}
