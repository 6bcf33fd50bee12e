package io.qpatch.trace;

import io.qpatch.testing.GoToolchains;
import io.qpatch.testing.GoToolchains.GoToolchain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import io.qpatch.testing.LiveProcess;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class GoTraceTest {
  @TempDir Path tmp;

  static Stream<GoToolchain> toolchains() {
    return GoToolchains.all().stream();
  }

  /** Every toolchain with each backend. */
  static Stream<Arguments> toolchainsAndBackends() {
    return toolchains().flatMap(go -> Stream.of(Arguments.of(go, "ptrace"), Arguments.of(go, "uprobe"),
        Arguments.of(go, "inproc")));
  }

  /**
   * Runs the conformance fixture traced (every function, or those {@code filter} finds),
   * output to a file, with returns; returns the events.
   */
  private CollectingSink traceWorkers(Path prog, String backend, Path output, String filter) {
    CollectingSink sink = new CollectingSink();
    Selection all = new Selection(Optional.ofNullable(filter).map(Pattern::compile), Optional.empty(),
        true, true);
    TraceConfig config = new TraceConfig(all, Optional.of(backend), false, List.of(sink),
        new PrintStream(new ByteArrayOutputStream()));
    TraceSession s = TraceSession.launch(List.of(prog.toString(), output.toString()), config);
    assertEquals(0, s.run(), "the traced program's exit status");
    return sink;
  }

  /** Every toolchain with the backends that can probe thousands of functions. */
  static Stream<Arguments> toolchainsAndManyProbeBackends() {
    return toolchains().flatMap(go -> Stream.of(Arguments.of(go, "ptrace"), Arguments.of(go, "inproc")));
  }

  /**
   * The whole runtime probed (not with uprobes: thousands of them take minutes to remove
   * on this kernel), and the program still runs to completion with the right output.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("toolchainsAndManyProbeBackends")
  void tracing_every_runtime_function_leaves_the_program_working(GoToolchain go, String backend) throws Exception {
    Path prog = go.build("conformance", GoPrograms.CONFORMANCE);
    CollectingSink sink = traceWorkers(prog, backend, tmp.resolve("out.txt"), null);
    checkWorkers(sink, tmp.resolve("out.txt"));
    assertTrue(sink.text().contains("] runtime.main <-( "), "runtime functions are traced");
  }

  static void checkWorkers(CollectingSink sink, Path output) throws Exception {
    String out = Files.readString(output);
    Matcher m = Pattern.compile("worker (\\d+) goid (\\d+) result (\\d+)").matcher(out);
    Map<Long, Long> goidOf = new HashMap<>();
    while (m.find()) goidOf.put(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
    assertEquals(6, goidOf.size(), "the program ran to completion:\n" + out);
    List<TraceEvent> calls = sink.calls("main.leaf");
    assertEquals(6, calls.size(), "main.leaf calls (" + sink.report.stats() + ")");
    for (TraceEvent call : calls) {
      long id = call.values()[0];
      assertEquals(goidOf.get(id), call.goid(), "goid of the call with RAX=" + id);
    }
    List<TraceEvent> rets = sink.returns("main.leaf");
    assertEquals(6, rets.size());
    for (TraceEvent r : rets) assertTrue(r.durationNanos() >= 0, "paired return");
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("toolchainsAndBackends")
  void a_stripped_build_still_shows_function_names(GoToolchain go, String backend) throws Exception {
    Path prog = go.build("conformance-stripped", GoPrograms.CONFORMANCE, "-ldflags=-s -w");
    CollectingSink sink = traceWorkers(prog, backend, tmp.resolve("out.txt"), "^main\\.leaf$");
    checkWorkers(sink, tmp.resolve("out.txt"));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("toolchainsAndBackends")
  void attach_then_stop_leaves_the_program_running(GoToolchain go, String backend) throws Exception {
    Path prog = go.build("ticker", GoPrograms.TICKER);
    try (LiveProcess p = LiveProcess.start(tmp.resolve("ticker.txt"), prog.toString())) {
      p.awaitOutput(o -> o.contains("tick 2"), Duration.ofSeconds(10));
      CollectingSink sink = new CollectingSink();
      Selection sel = new Selection(Optional.of(Pattern.compile("^main\\.tick$")), Optional.empty(), false, true);
      TraceSession s = TraceSession.attach(p.pid(), new TraceConfig(sel, Optional.of(backend), false,
          List.of(sink), new PrintStream(new ByteArrayOutputStream())));
      Thread stopper = Thread.ofPlatform().start(() -> {
        LiveProcess.sleep(400);
        s.stop();
      });
      assertEquals(0, s.run());
      stopper.join();
      assertTrue(sink.calls("main.tick").size() >= 3, sink.text());
      int ticks = count(p.output());
      p.awaitOutput(o -> count(o) >= ticks + 4, Duration.ofSeconds(10));
      assertTrue(p.isAlive(), "still running after the trace");
    }
  }

  private static int count(String out) {
    return (int) out.lines().filter(l -> l.startsWith("tick ")).count();
  }

  /** os/exec's vfork child shares the probed memory: its hits are answered until it execs. */
  @Test
  void a_program_using_os_exec_runs_its_child_under_full_tracing() throws Exception {
    GoToolchain go = GoToolchains.newest();
    Path prog = go.build("exec", GoPrograms.EXEC);
    CollectingSink sink = new CollectingSink();
    Selection all = new Selection(Optional.empty(), Optional.empty(), false, true);
    Path out = tmp.resolve("out.txt");
    TraceSession s = TraceSession.launch(List.of(prog.toString(), out.toString()), new TraceConfig(all, Optional.of("ptrace"), false, List.of(sink),
        new PrintStream(new ByteArrayOutputStream())));
    assertEquals(0, s.run());
    assertTrue(Files.readString(out).contains("ran true: <nil>"), Files.readString(out));
  }
}
