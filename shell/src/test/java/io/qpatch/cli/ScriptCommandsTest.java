package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code qpatch run} and {@code qpatch shell} driving a real process. */
class ScriptCommandsTest {
  private static final String SLEEPER =
      """
      #include <stdio.h>
      #include <unistd.h>
      int answer(int x) { return x + 1; }
      int main(void) {
        printf("ready\\n");
        fflush(stdout);
        for (;;) sleep(1);
      }
      """;

  @TempDir Path tmp;

  private LiveProcess start() {
    Path exe = Fixtures.c("script-sleeper", SLEEPER, "-O1");
    LiveProcess p = LiveProcess.start(tmp.resolve("out"), exe.toString());
    p.awaitOutput(o -> o.contains("ready"), Duration.ofSeconds(5));
    return p;
  }

  private Path script(String text) throws Exception {
    Path f = tmp.resolve("s.jsh");
    Files.writeString(f, text);
    return f;
  }

  @Test
  void inspectRecipeShowsThreadsModulesAndDisassembly() {
    try (LiveProcess p = start()) {
      Path recipe = Path.of(System.getProperty("qpatch.repo"), "scripts", "inspect.jsh");
      CliRun run = CliRun.of(Commands::forThisBuild, "qpatch", "run", recipe.toString(),
          "" + p.pid(), "answer");
      assertEquals(0, run.exit(), run.err());
      assertTrue(run.out().matches("(?s)thread \\d+ +script-sleeper +libc\\.so\\.6!.*"), run.out());
      assertTrue(run.out().contains("module 0x"), run.out());
      assertTrue(run.out().matches("(?s).*answer at 0x[0-9a-f]+\nanswer  0x.*"), run.out());
      assertTrue(p.isAlive());
    }
  }

  @Test
  void scriptArgumentsAndExitStatusAndRemoteCall() throws Exception {
    try (LiveProcess p = start()) {
      Path s = script("""
          var p = attach(Integer.parseInt(args[0]));
          System.out.println("answer(41) = " + p.call("answer", 41));
          p.detach();
          exit(Integer.parseInt(args[1]));
          """);
      CliRun run = CliRun.of(Commands::forThisBuild, "qpatch", "run", s.toString(), "" + p.pid(), "7");
      assertEquals(7, run.exit(), run.err());
      assertEquals("answer(41) = 42\n", run.out());
      assertTrue(p.isAlive());
    }
  }

  @Test
  void failingScriptNamesTheLineAndExitsOne() throws Exception {
    Path s = script("int a = 1;\n\nvar p = attach(999999999);\nSystem.out.println(\"not reached\");\n");
    CliRun run = CliRun.of(Commands::forThisBuild, "qpatch", "run", s.toString());
    assertEquals(1, run.exit());
    assertEquals(s + ":3: no process with pid 999999999\n", run.err());
    assertEquals("", run.out());
  }

  @Test
  void scriptThatDoesNotCompileNamesTheLine() throws Exception {
    Path s = script("int a = 1;\nint b = \"text\";\n");
    CliRun run = CliRun.of(Commands::forThisBuild, "qpatch", "run", s.toString());
    assertEquals(1, run.exit());
    assertTrue(run.err().startsWith(s + ":2: incompatible types"), run.err());
  }

  @Test
  void javaScriptRecipeSaysHowToEnableIt() throws Exception {
    Path js = tmp.resolve("x.js");
    Files.writeString(js, "print(1)");
    CliRun run = CliRun.of(Commands::forThisBuild, "qpatch", "run", js.toString());
    assertEquals(1, run.exit());
    assertTrue(run.err().contains("JavaScript recipes need the JS build"), run.err());
    assertTrue(run.err().contains("run it with 'QPATCH_JS=1 ./qpatch run " + js + "'"), run.err());
  }

  @Test
  void shellWithPidRunsAScriptedBreakpointAndATrace() {
    try (LiveProcess p = start()) {
      String input = """
          var seconds = new long[1]
          var h = target.onCall("sleep", c -> seconds[0] += c.arg(0))
          target.run(2.5)
          System.out.println("sleeps=" + (h.count() >= 2) + " seconds=" + (seconds[0] == h.count()))
          h.remove()
          target.trace("^main$").returns().forSeconds(0.2).summary()
          /exit 0
          """;
      String text = shell(input, p.pid());
      assertTrue(text.contains("var h = p.onCall(\"malloc\", c -> ...)") && text.contains("p.trace(\""),
          "the banner lists onCall and trace: " + text);
      assertTrue(text.contains("sleeps=true seconds=true"), text);
      assertTrue(text.matches("(?s).*==> FUNCTION +CALLS +TOTAL +SELF +MEAN +MAX\n.*"), text);
      assertTrue(p.isAlive());
    }
  }

  /** What {@code qpatch shell -p PID} printed for {@code input}, which must end with /exit 0. */
  private static String shell(String input, int pid) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Io io = new Io(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)));
    int exit = new Cli(io, Commands::forThisBuild).run("qpatch", "shell", "-p", "" + pid);
    String text = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, exit, text);
    return text;
  }

  @Test
  void shellWithPidHasTargetAttached() {
    try (LiveProcess p = start()) {
      String input = "target.call(\"answer\", 9)\nSystem.out.println(\"threads=\" + target.threads().size())\n/exit 3\n";
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      Io io = new Io(new PrintStream(out, true, StandardCharsets.UTF_8),
          new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
          new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)));
      int exit = new Cli(io, Commands::forThisBuild).run("qpatch", "shell", "-p", "" + p.pid());
      String text = out.toString(StandardCharsets.UTF_8);
      assertEquals(3, exit, text);
      assertTrue(text.contains("target = pid " + p.pid()), text);
      assertTrue(text.contains("==> 10"), text);
      assertTrue(text.contains("threads=1"), text);
      assertTrue(p.isAlive());
    }
  }
}
