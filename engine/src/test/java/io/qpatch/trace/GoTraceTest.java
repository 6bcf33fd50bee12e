package io.qpatch.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class GoTraceTest {
  @TempDir Path tmp;

  static Stream<Path> toolchains() {
    return GoToolchains.requireSome().stream();
  }

  /** Runs the workers fixture traced (every function), output to a file; returns the events. */
  private CollectingSink traceWorkers(Path prog, String backend, Path output) {
    CollectingSink sink = new CollectingSink();
    Selection all = new Selection(Optional.empty(), Optional.empty(), true, true);
    TraceConfig config = new TraceConfig(all, Optional.of(backend), false, List.of(sink),
        new PrintStream(new ByteArrayOutputStream()));
    TraceSession s = TraceSession.launch(List.of(prog.toString(), output.toString()), config);
    assertEquals(3, s.run(), "the traced program's exit status");
    return sink;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void every_worker_call_shows_its_id_in_rax_and_its_own_goid(Path go) throws Exception {
    Path prog = GoToolchains.build(go, "workers", GoPrograms.WORKERS);
    checkWorkers(traceWorkers(prog, "ptrace", tmp.resolve("out.txt")), tmp.resolve("out.txt"));
  }

  static void checkWorkers(CollectingSink sink, Path output) throws Exception {
    String out = Files.readString(output);
    Matcher m = Pattern.compile("worker (\\d+) goid (\\d+) result (\\d+)").matcher(out);
    Map<Long, Long> goidOf = new HashMap<>();
    while (m.find()) goidOf.put(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
    assertEquals(4, goidOf.size(), "the program ran to completion:\n" + out);
    List<TraceEvent> calls = sink.calls("main.work");
    assertEquals(4, calls.size(), "main.work calls");
    for (TraceEvent call : calls) {
      long id = call.values()[0];
      assertEquals(goidOf.get(id), call.goid(), "goid of the call with RAX=" + id);
    }
    List<TraceEvent> rets = sink.returns("main.work");
    assertEquals(4, rets.size());
    for (TraceEvent r : rets) assertTrue(r.durationNanos() >= 0, "paired return");
    assertTrue(sink.text().contains("] runtime.main <-( "), "runtime functions are traced");
  }
}
