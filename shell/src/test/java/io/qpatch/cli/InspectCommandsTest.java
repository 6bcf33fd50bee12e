package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code qpatch info} and {@code qpatch sym} against a real running process. */
class InspectCommandsTest {
  private static final String SLEEPER =
      """
      #include <pthread.h>
      #include <stdio.h>
      #include <unistd.h>
      static void *nap(void *a) { for (;;) sleep(1); }
      int main(void) {
        pthread_t t;
        pthread_create(&t, 0, nap, 0);
        printf("ready\\n");
        fflush(stdout);
        for (;;) sleep(1);
      }
      """;

  @TempDir Path tmp;

  private LiveProcess start() {
    Path exe = Fixtures.c("sleeper", SLEEPER, "-pthread");
    LiveProcess p = LiveProcess.start(tmp.resolve("out"), exe.toString());
    p.awaitOutput(o -> o.contains("ready"), Duration.ofSeconds(5));
    return p;
  }

  @Test
  void symPrintsAddressAndModuleOfEachName() {
    try (LiveProcess p = start()) {
      CliRun run = CliRun.of(Commands::forThisBuild, "qpatch", "sym", "-p", "" + p.pid(), "main",
          "libc.so.6!sleep");
      assertEquals(0, run.exit(), run.err());
      List<String> lines = run.out().lines().toList();
      assertEquals(2, lines.size(), run.out());
      assertTrue(lines.get(0).matches("main 0x[0-9a-f]+ .*/sleeper"), lines.get(0));
      assertTrue(lines.get(1).matches("libc.so.6!sleep 0x[0-9a-f]+ .*/libc.so.6"), lines.get(1));
      assertTrue(p.isAlive());
    }
  }

  @Test
  void symExitsOneNamingTheMissingName() {
    try (LiveProcess p = start()) {
      CliRun run = CliRun.of(Commands::forThisBuild, "qpatch", "sym", "-p", "" + p.pid(), "main",
          "no_such_function_xyz");
      assertEquals(1, run.exit());
      assertTrue(run.out().startsWith("main 0x"), run.out());
      assertEquals(1, run.err().lines().count(), run.err());
      assertTrue(run.err().contains("no_such_function_xyz"), run.err());
    }
  }

  @Test
  void infoListsThreadsWithSymbolizedPcAndModulesWithBuildId() {
    try (LiveProcess p = start()) {
      CliRun run = CliRun.of(Commands::forThisBuild, "qpatch", "info", "-p", "" + p.pid());
      assertEquals(0, run.exit(), run.err());
      assertTrue(run.out().contains("threads (2):"), run.out());
      // both threads sleep: their pc is inside libc's nanosleep
      Matcher m = Pattern.compile("(?m)^  \\d+ +sleeper +\\S  0x[0-9a-f]+ libc\\.so\\.6!\\S+").matcher(run.out());
      assertTrue(m.find() && m.find(), run.out());
      String buildId = Fixtures.run(List.of("readelf", "-n",
          Fixtures.c("sleeper", SLEEPER, "-pthread").toString()));
      Matcher id = Pattern.compile("Build ID: ([0-9a-f]+)").matcher(buildId);
      assertTrue(id.find());
      assertTrue(run.out().contains("build-id " + id.group(1)), run.out());
      assertTrue(p.isAlive());
    }
  }

  @Test
  void infoOnMissingPidIsOneLine() {
    CliRun run = CliRun.of(Commands::forThisBuild, "qpatch", "info", "-p", "999999999");
    assertEquals(1, run.exit());
    assertEquals("qpatch: no process with pid 999999999\n", run.err());
  }
}
