package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.testing.LiveProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code QPATCH_JS=1 ./qpatch run scripts/inspect.js}, as a user runs it: the launcher runs
 * the JS build (qpatch-js.jar and its libraries). Runs after {@code package} (see
 * shell-js/pom.xml), when shell-js/target/qpatch-js.jar exists.
 */
class JsLauncherIT {
  private static final Path REPO = Path.of(System.getProperty("qpatch.repo"));

  @TempDir Path tmp;

  record Result(int exit, String out, String err) {}

  /** Runs the command in the repository with QPATCH_JS=1 (a first run builds and trains: minutes). */
  private Result launchJs(String... command) throws Exception {
    Path out = tmp.resolve("launcher.out");
    Path err = tmp.resolve("launcher.err");
    ProcessBuilder builder = new ProcessBuilder(command).directory(REPO.toFile())
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    builder.environment().put("QPATCH_JS", "1");
    Process process = builder.start();
    try {
      assertTrue(process.waitFor(300, TimeUnit.SECONDS), "launcher did not finish: " + List.of(command));
      return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
    } finally {
      process.destroyForcibly();
    }
  }

  @Test
  void launcherRunsTheJsRecipeAgainstALiveProcess() throws Exception {
    try (LiveProcess p = JsRecipesTest.startSleeper(tmp)) {
      Result result = launchJs(REPO.resolve("qpatch").toString(), "run", "scripts/inspect.js", "" + p.pid(), "answer");
      assertEquals(0, result.exit(), result.err());
      assertEquals("", result.err());
      assertTrue(result.out().matches("(?s)thread \\d+ +js-sleeper +libc\\.so\\.6!.*"), result.out());
      assertTrue(result.out().matches("(?s).*answer at 0x[0-9a-f]+\nanswer  0x.*"), result.out());
      assertTrue(p.isAlive());
    }
  }
}
