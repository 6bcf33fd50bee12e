package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code qpatch demo} on the real examples: built with gcc, cmain really runs. */
class DemoTest {
  private static final Pattern STARTED = Pattern.compile("started cmain, pid (\\d+)");

  @BeforeEach
  void needsGcc() {
    Prerequisites.require("gcc", "apt-get install gcc");
    Prerequisites.require("stdbuf", "apt-get install coreutils");
  }

  /** A patch step that fails (here refused) ends the demo with its message; cmain and the build directory go. */
  @Test
  void when_the_patch_step_fails_the_demo_says_why_and_stops_cmain() throws IOException {
    Set<Path> tempBefore = demoDirectories();
    RecordingCommands engine = RecordingCommands.failingWith(new io.qpatch.error.RefusedException("cannot load cpatch.o now"));
    CliRun run = CliRun.of(io -> engine, "qpatch", "demo");
    assertEquals(1, run.exit(), run.err());
    assertTrue(run.out().contains("    cmain| c test\n"), run.out());
    assertEquals("qpatch: cannot load cpatch.o now\n", run.err());
    assertGone(pid(run.out()));
    assertEquals(tempBefore, demoDirectories());
  }

  @Test
  void the_demo_patches_and_rolls_back_cpatch_then_chook_in_the_running_cmain() throws IOException {
    RecordingCommands engine = new RecordingCommands();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Io io = new Io(new PrintStream(out, true, StandardCharsets.UTF_8), System.err, InputStream.nullInputStream());
    int exit = new Demo(io, engine, Prerequisites.repo(), Duration.ofMillis(200)).run();
    assertEquals(0, exit);
    long pid = pid(out.toString(StandardCharsets.UTF_8));
    List<String> expected = Stream.of("cpatch.o", "chook.o")
        .flatMap(object -> Stream.of("LOAD", "ACTIVATE", "ROLLBACK")
            .map(action -> "patch " + action + " " + object + " " + pid))
        .toList();
    assertEquals(expected, engine.calls.stream().map(call -> call.replaceAll(" /\\S*/", " ")).toList());
    assertGone(pid);
  }

  @Test
  void with_the_engine_the_demo_patches_and_hooks_cmain_and_rolls_back_leaving_nothing_behind()
      throws IOException {
    Set<Path> tempBefore = demoDirectories();
    CliRun run = CliRun.of(EngineCommands::new, "qpatch", "demo");
    assertEquals(0, run.exit(), run.err());
    String out = run.out();
    int replaced = out.indexOf("==> once the sleep(5) in progress returns, cmain runs the new sleep()");
    int rolledBack = out.indexOf("==> roll back: qpatch -o cpatch.o");
    int hooked = out.indexOf("==> once the sleep(5) in progress returns, every sleep() goes through the hook");
    int unhooked = out.indexOf("==> roll back: qpatch -o chook.o");
    assertTrue(0 < replaced && replaced < rolledBack && rolledBack < hooked && hooked < unhooked, out);
    assertTrue(out.substring(replaced, rolledBack).contains("    cmain| sleep called!\n"), out);
    assertTrue(out.substring(rolledBack, hooked).contains("    cmain| c test\n"), out);
    String hook = out.substring(hooked, unhooked);
    assertTrue(hook.indexOf("cmain| before sleep called!\n") < hook.indexOf("cmain| after sleep called!\n"), out);
    assertTrue(out.substring(unhooked).contains("    cmain| c test\n"), out);
    assertTrue(out.endsWith("==> stopping cmain (pid " + pid(out) + ")\n"), out);
    assertGone(pid(out));
    assertEquals(tempBefore, demoDirectories());
  }

  private static long pid(String out) {
    Matcher matcher = STARTED.matcher(out);
    assertTrue(matcher.find(), out);
    return Long.parseLong(matcher.group(1));
  }

  /** Not running, and not a zombie either: the demo's shell reaped it. */
  private static void assertGone(long pid) {
    assertFalse(Files.exists(Path.of("/proc", Long.toString(pid))), "cmain (pid " + pid + ") is still there");
  }

  private static Set<Path> demoDirectories() throws IOException {
    try (Stream<Path> entries = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return entries.filter(path -> path.getFileName().toString().startsWith("qpatch-demo-"))
          .collect(Collectors.toSet());
    }
  }
}
