package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import io.qpatch.testing.RecipeFixtures;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code qpatch run} on .js recipes in the JS build (JsRunner found through ServiceLoader),
 * in-process, driving real processes.
 */
class JsRecipesTest {
  static final String SLEEPER =
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

  record Run(int exit, String out, String err) {}

  static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Io io = new Io(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), InputStream.nullInputStream());
    int exit = new Cli(io, Commands::forThisBuild).run(args);
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static LiveProcess startSleeper(Path dir) {
    Path exe = Fixtures.c("js-sleeper", SLEEPER, "-O1");
    LiveProcess p = LiveProcess.start(dir.resolve("out"), exe.toString());
    p.awaitOutput(o -> o.contains("ready"), Duration.ofSeconds(5));
    return p;
  }

  static Path recipe(String name) {
    return Path.of(System.getProperty("qpatch.repo"), "scripts", name);
  }

  private Path script(String text) throws Exception {
    return Files.writeString(tmp.resolve("s.js"), text);
  }

  @Test
  void inspectRecipePrintsWhatTheJshellRecipePrints() {
    try (LiveProcess p = startSleeper(tmp)) {
      Run js = run("qpatch", "run", recipe("inspect.js").toString(), "" + p.pid(), "answer");
      Run jsh = run("qpatch", "run", recipe("inspect.jsh").toString(), "" + p.pid(), "answer");
      assertEquals(0, js.exit(), js.err());
      assertTrue(js.out().matches("(?s)thread \\d+ +js-sleeper +libc\\.so\\.6!.*"), js.out());
      assertTrue(js.out().matches("(?s).*\nmodule 0x[0-9a-f]{12} \\S+/js-sleeper [0-9a-f]+\n.*"), js.out());
      assertTrue(js.out().matches("(?s).*answer at 0x[0-9a-f]+\nanswer  0x.*"), js.out());
      assertEquals(jsh, js);
      assertTrue(p.isAlive());
    }
  }

  @Test
  void countCallsRecipeCountsMallocAndItsBytesPerThread() {
    try (LiveProcess p = LiveProcess.start(tmp.resolve("out"), RecipeFixtures.allocator().toString())) {
      p.awaitOutput(o -> o.contains("ready"), Duration.ofSeconds(5));
      Run js = run("qpatch", "run", recipe("count-calls.js").toString(), "" + p.pid(), "malloc", "0.5");
      assertEquals(0, js.exit(), js.err());
      assertTrue(js.out().startsWith("counting calls of malloc in pid " + p.pid() + " for 0.5 s\n"
          + "TID        THREAD                CALLS         ARG0 SUM\n"), js.out());
      RecipeFixtures.assertAllocatorTable(js.out());
      assertEquals("", js.err());
      assertTrue(p.isAlive());
    }
  }

  @Test
  void traceGoRecipePrintsTheSummaryOfMainFunctions() {
    try (LiveProcess p = LiveProcess.start(tmp.resolve("out"), RecipeFixtures.goWorker().toString())) {
      p.awaitOutput(o -> o.contains("ready"), Duration.ofSeconds(10));
      Run js = run("qpatch", "run", recipe("trace-go.js").toString(), "" + p.pid(), "1");
      assertEquals(0, js.exit(), js.err());
      assertTrue(js.out().startsWith("tracing ^main\\. in pid " + p.pid() + " for 1 s\nFUNCTION "), js.out());
      RecipeFixtures.assertGoWorkerSummary(js.out());
      assertTrue(p.isAlive());
    }
  }

  @Test
  void inspectRecipeWithoutPidPrintsUsageAndExitsTwo() {
    Run js = run("qpatch", "run", recipe("inspect.js").toString());
    assertEquals(new Run(2, "", "usage: QPATCH_JS=1 qpatch run scripts/inspect.js PID [FUNCTION]\n"), js);
  }

  @Test
  void argumentsAreAJsArrayAndExitSetsTheStatusAfterARemoteCall() throws Exception {
    try (LiveProcess p = startSleeper(tmp)) {
      Path s = script("""
          const p = attach(parseInt(args[0], 10));
          print(`answer(41) = ${p.call("answer", 41)}, args: ${Array.isArray(args)} ${args.join("|")}`);
          p.detach();
          exit(parseInt(args[1], 10));
          print("not reached");
          """);
      Run run = run("qpatch", "run", s.toString(), "" + p.pid(), "7", "x y");
      assertEquals(new Run(7, "answer(41) = 42, args: true " + p.pid() + "|7|x y\n", ""), run);
      assertTrue(p.isAlive());
    }
  }

  @Test
  void launchStartsAProgramHeldAtItsFirstInstruction() throws Exception {
    Path s = script("""
        const p = launch("/bin/sh", "-c", "exit 5");
        print(`held: ${p.threads().size()} thread`);
        p.resume();
        print(`exit status ${p.target().waitExit()}`);
        """);
    assertEquals(new Run(0, "held: 1 thread\nexit status 5\n", ""), run("qpatch", "run", s.toString()));
  }

  @Test
  void qpatchErrorNamesTheLineAndExitsOne() throws Exception {
    Path s = script("let a = 1;\n\nconst p = attach(999999999);\nprint(\"not reached\");\n");
    assertEquals(new Run(1, "", s + ":3: no process with pid 999999999\n"), run("qpatch", "run", s.toString()));
  }

  @Test
  void javaExceptionNamesTheLineWithItsClass() throws Exception {
    Path s = script("print(\"before\");\njava.lang.Integer.parseInt(\"x\");\n");
    assertEquals(new Run(1, "before\n", s + ":2: java.lang.NumberFormatException: For input string: \"x\"\n"),
        run("qpatch", "run", s.toString()));
  }

  @Test
  void javaScriptErrorNamesTheLine() throws Exception {
    Path s = script("function f() {\n  throw new Error(\"boom\");\n}\nf();\n");
    assertEquals(new Run(1, "", s + ":2: Error: boom\n"), run("qpatch", "run", s.toString()));
  }

  @Test
  void syntaxErrorNamesTheLine() throws Exception {
    Path s = script("let a = 1;\nlet b = ;\n");
    Run run = run("qpatch", "run", s.toString());
    assertEquals(1, run.exit());
    assertTrue(run.err().startsWith(s + ":2: SyntaxError"), run.err());
    assertEquals(1, run.err().lines().count(), run.err());
  }

  @Test
  void classesOutsideQpatchAndJavaAreNotVisible() throws Exception {
    Path s = script("Java.type(\"jdk.internal.misc.Unsafe\");\n");
    Run run = run("qpatch", "run", s.toString());
    assertEquals(1, run.exit());
    assertTrue(run.err().startsWith(s + ":1: TypeError: Access to host class jdk.internal.misc.Unsafe is not allowed"),
        run.err());
  }

  @Test
  void helpIsAGlobal() throws Exception {
    Path s = script("print(help().split(\"\\n\")[0]);\n");
    assertEquals(new Run(0, "qpatch shell: the engine, scripted in Java. The most useful calls:\n", ""),
        run("qpatch", "run", s.toString()));
  }
}
