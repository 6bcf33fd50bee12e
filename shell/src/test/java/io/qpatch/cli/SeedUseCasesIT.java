package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.patch.RunningTarget;
import io.qpatch.patch.Targets;
import io.qpatch.testing.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed's two use cases and the C++ examples, end to end: built with the seed's gcc
 * commands, patched with the seed's exact qpatch commands ({@code ./qpatch -o ./cpatch.o -p
 * PID -l}, then {@code -a}, then {@code -r}), each a separate run of the launcher (a JVM
 * of its own); the target's own output shows the change and its return.
 */
class SeedUseCasesIT {
  private static final Duration SLEEP_5 = Duration.ofSeconds(7);

  @TempDir Path dir;

  /** The examples' sources in a fresh directory with a ./qpatch link to the launcher, as in the seed. */
  private Path workspace(String name, String... sources) {
    try {
      Path ws = Files.createDirectories(dir.resolve(name));
      for (String s : sources) Files.copy(Targets.examples().resolve(s), ws.resolve(s));
      Files.createSymbolicLink(ws.resolve("qpatch"), Prerequisites.repo().resolve("qpatch"));
      return ws;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** COMMAND in {@code ws}, as a user types it there. */
  private static void run(Path ws, String... command) {
    List<String> all = new ArrayList<>(List.of("sh", "-c", "cd \"$0\" && exec \"$@\"", ws.toString()));
    all.addAll(List.of(command));
    Fixtures.run(all);
  }

  /** {@code ./qpatch ARGS} in {@code ws}: must succeed. */
  private static String qpatch(Path ws, String... args) {
    Launcher.Result r = Launcher.qpatchIn(ws, args);
    assertEquals(0, r.exit(), "./qpatch " + String.join(" ", args) + "\n" + r);
    return r.out();
  }

  @Test
  void the_seeds_replace_and_hook_of_sleep_in_cmain_work_with_its_exact_commands() {
    CompletableFuture<Void> replace = CompletableFuture.runAsync(this::useCase1Replace);
    CompletableFuture<Void> hook = CompletableFuture.runAsync(this::useCase2Hook);
    try {
      CompletableFuture.allOf(replace, hook).join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof Error err) throw err;
      throw e;
    }
  }

  private void useCase1Replace() {
    Path ws = workspace("case1", "cmain.c", "cpatch.c");
    run(ws, "gcc", "cmain.c", "-o", "cmain");
    run(ws, "gcc", "-c", "cpatch.c", "-o", "cpatch.o");
    try (RunningTarget cmain = RunningTarget.start(ws.resolve("out"), ws.resolve("cmain"))) {
      String pid = Integer.toString(cmain.pid());
      assertEquals("loaded cpatch.o into pid " + pid + ", not active yet: replace sleep (libc.so.6)\n",
          qpatch(ws, "-o", "./cpatch.o", "-p", pid, "-l"));
      qpatch(ws, "-o", "./cpatch.o", "-p", pid, "-a");
      String patched = cmain.awaitSince(0, o -> o.contains("c test\nsleep called!\nc test\n"), SLEEP_5);
      assertTrue(patched.startsWith("c test\nsleep called!\n"), "before the patch only 'c test': " + patched.lines().limit(3).toList());
      assertTrue(qpatch(ws, "-o", "./cpatch.o", "-p", pid, "-r").startsWith("rolled back cpatch.o"));
      long mark = cmain.size();
      String after = cmain.awaitSince(mark, o -> o.contains("c test\n"), SLEEP_5);
      assertEquals("c test\n", after, "after the rollback cmain sleeps again");
      assertTrue(cmain.isAlive(), "cmain survives the rollback");
      assertFalse(cmain.maps().contains("qpatch:"), cmain.maps());
    }
  }

  private void useCase2Hook() {
    Path ws = workspace("case2", "cmain.c", "chook.c");
    run(ws, "gcc", "cmain.c", "-o", "cmain");
    run(ws, "gcc", "-c", "chook.c", "-o", "chook.o");
    try (RunningTarget cmain = RunningTarget.start(ws.resolve("out"), ws.resolve("cmain"))) {
      String pid = Integer.toString(cmain.pid());
      qpatch(ws, "-o", "./chook.o", "-p", pid, "-l");
      qpatch(ws, "-o", "./chook.o", "-p", pid, "-a");
      String hooked = cmain.awaitSince(0, o -> o.contains("after sleep called!\nc test\n"), Duration.ofSeconds(12));
      assertTrue(hooked.contains("c test\nbefore sleep called!\nafter sleep called!\nc test\n"), hooked);
      qpatch(ws, "-o", "./chook.o", "-p", pid, "-r");
      long mark = cmain.size();
      String after = cmain.awaitSince(mark, o -> o.contains("c test\n"), SLEEP_5);
      assertEquals("c test\n", after, "after the rollback no more log lines around sleep");
      assertTrue(cmain.isAlive(), "cmain survives the rollback");
      assertFalse(cmain.maps().contains("qpatch:"), cmain.maps());
    }
  }

  @Test
  void the_cpp_examples_replace_a_class_method_then_hook_it_with_std_string() {
    Fixtures.requireTool("g++");
    Path ws = workspace("cpp", "cppmain.cpp", "cpppatch.cpp", "cpphook.cpp", "greeter.h");
    run(ws, "g++", "-O2", "cppmain.cpp", "-o", "cppmain");
    run(ws, "g++", "-c", "cpppatch.cpp", "-o", "cpppatch.o");
    run(ws, "g++", "-c", "cpphook.cpp", "-o", "cpphook.o");
    Duration round = Duration.ofSeconds(4);
    try (RunningTarget cppmain = RunningTarget.start(ws.resolve("out"), ws.resolve("cppmain"))) {
      String pid = Integer.toString(cppmain.pid());
      cppmain.awaitSince(0, o -> o.contains("greeter: hello, round 0\n"), round);
      assertTrue(qpatch(ws, "apply", "-o", "./cpppatch.o", "-p", pid)
          .endsWith(": replace _ZN7Greeter5greetEi (cppmain)\n"));
      long mark = cppmain.size();
      cppmain.awaitSince(mark, o -> o.matches("(?s).*greeter: patched, round \\d+\n.*"), round);
      qpatch(ws, "-o", "./cpppatch.o", "-p", pid, "-r");
      long back = cppmain.size();
      assertTrue(cppmain.awaitSince(back, o -> o.contains("\n"), round).matches("greeter: hello, round \\d+\n"));
      qpatch(ws, "apply", "-o", "./cpphook.o", "-p", pid);
      long hooked = cppmain.size();
      String log = cppmain.awaitSince(hooked, o -> o.contains("hook: greet returned"), round);
      assertTrue(log.matches("hook: before greet, round (\\d+)\ngreeter: hello, round \\1\nhook: greet returned \\1\n(?s).*"), log);
      qpatch(ws, "-o", "./cpphook.o", "-p", pid, "-r");
      long end = cppmain.size();
      assertTrue(cppmain.awaitSince(end, o -> o.contains("\n"), round).matches("greeter: hello, round \\d+\n"));
      assertTrue(cppmain.isAlive());
      assertFalse(cppmain.maps().contains("qpatch:"), cppmain.maps());
    }
  }
}
