package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The seed's two use cases as recipes (scripts/patch-sleep.jsh, scripts/hook-sleep.jsh). */
class PatchRecipesTest {
  /** The seed's cmain with sleep(1) instead of sleep(5), so the test sees several loops. */
  private static final String CMAIN_FAST =
      """
      #include <stdio.h>
      #include <unistd.h>
      int main() {
        setvbuf(stdout, 0, _IOLBF, 0);
        while (1) {
          sleep(1);
          printf("c test\\n");
        }
      }
      """;

  @TempDir Path tmp;

  private static final Path REPO = Path.of(System.getProperty("qpatch.repo"));

  private Path object(String example) {
    Path out = tmp.resolve(example + ".o");
    Fixtures.run(List.of("gcc", "-c", REPO.resolve("examples/" + example + ".c").toString(),
        "-o", out.toString()));
    return out;
  }

  private String runRecipe(String recipe, LiveProcess p, Path patch) {
    CliRun run = CliRun.of(Commands::forThisBuild, "qpatch", "run",
        REPO.resolve("scripts/" + recipe).toString(), "" + p.pid(), patch.toString(), "3");
    assertEquals(0, run.exit(), run.err());
    return run.out();
  }

  /** What the target printed after the recipe ended, over two of its loops. */
  private static String afterwards(LiveProcess p) {
    int before = p.output().length();
    p.awaitOutput(o -> o.length() > before && o.substring(before).split("\n").length >= 2,
        Duration.ofSeconds(5));
    return p.output().substring(before);
  }

  @Test
  void patchSleepRecipeReplacesThenRollsBack() {
    Path exe = Fixtures.c("cmain-fast", CMAIN_FAST);
    try (LiveProcess p = LiveProcess.start(tmp.resolve("out"), exe.toString())) {
      p.awaitOutput(o -> o.contains("c test"), Duration.ofSeconds(5));
      String said = runRecipe("patch-sleep.jsh", p, object("cpatch"));
      assertTrue(said.contains("loaded cpatch.o: 1 function(s)"), said);
      assertTrue(said.contains("rolled back cpatch.o"), said);
      assertTrue(p.output().contains("sleep called!\nc test\n"), "patched output");
      String after = afterwards(p);
      assertFalse(after.contains("sleep called!"), after);
      assertTrue(p.isAlive());
    }
  }

  @Test
  void hookSleepRecipeWrapsThenRollsBack() {
    Path exe = Fixtures.c("cmain-fast", CMAIN_FAST);
    try (LiveProcess p = LiveProcess.start(tmp.resolve("out"), exe.toString())) {
      p.awaitOutput(o -> o.contains("c test"), Duration.ofSeconds(5));
      String said = runRecipe("hook-sleep.jsh", p, object("chook"));
      assertTrue(said.contains("rolled back chook.o"), said);
      assertTrue(p.output().contains("before sleep called!\nafter sleep called!\nc test\n"),
          p.output());
      String after = afterwards(p);
      assertFalse(after.contains("sleep called!"), after);
      assertTrue(p.isAlive());
    }
  }
}
