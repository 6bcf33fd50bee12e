package io.qpatch.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.error.RefusedException;

import io.qpatch.testing.GoToolchains;
import io.qpatch.testing.GoToolchains.GoToolchain;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One suite, every backend, every installed Go: the same fixture ({@link
 * GoPrograms#CONFORMANCE}) traced through ptrace, uprobe and inproc must give the same
 * lines, built here from what the program itself reports (each goroutine's id from
 * runtime.Stack). Only the thread id (mid) is left out of the comparison: which OS thread
 * runs a goroutine is the scheduler's choice.
 */
class TraceConformanceTest {
  @TempDir Path tmp;

  static Stream<Arguments> toolchainsAndBackends() {
    return GoToolchains.all().stream().flatMap(go -> Stream.of("ptrace", "uprobe", "inproc")
        .map(b -> Arguments.of(go, b)));
  }

  /** What the program said: worker id to goid, and main's goid. */
  private record Report(Map<Long, Long> workers, long main) {
    static Report of(String out) {
      Map<Long, Long> workers = new TreeMap<>();
      Matcher w = Pattern.compile("worker (\\d+) goid (\\d+)").matcher(out);
      while (w.find()) workers.put(Long.parseLong(w.group(1)), Long.parseLong(w.group(2)));
      Matcher m = Pattern.compile("main goid (\\d+)").matcher(out);
      assertTrue(m.find(), "the program ran to completion:\n" + out);
      assertEquals(6, workers.size(), "every worker reported:\n" + out);
      return new Report(workers, Long.parseLong(m.group(1)));
    }
  }

  private record Traced(CollectingSink sink, Report report, String messages) {}

  private Traced trace(GoToolchain go, String backend, String filter) throws Exception {
    return trace(go.build("conformance", GoPrograms.CONFORMANCE), backend, filter);
  }

  private Traced trace(Path prog, String backend, String filter) throws Exception {
    Path out = tmp.resolve("out.txt");
    CollectingSink sink = new CollectingSink();
    ByteArrayOutputStream messages = new ByteArrayOutputStream();
    Selection sel = new Selection(Optional.of(Pattern.compile(filter)), Optional.empty(), false, true);
    TraceConfig config = new TraceConfig(sel, Optional.of(backend), true, List.of(sink),
        new PrintStream(messages, true, StandardCharsets.UTF_8));
    assertEquals(0, TraceSession.launch(List.of(prog.toString(), out.toString()), config).run());
    assertEquals(backend, sink.report.backend(), messages.toString(StandardCharsets.UTF_8));
    return new Traced(sink, Report.of(Files.readString(out)), messages.toString(StandardCharsets.UTF_8));
  }

  /** The trace's lines without the thread id, sorted. */
  private static List<String> lines(CollectingSink sink, String function) {
    List<String> out = new ArrayList<>();
    for (String l : sink.text().split("\n")) {
      if (l.contains("] " + function + "(")) out.add(l.replaceFirst("^mid\\[\\d+\\] ", "").replaceFirst("\\[0x[0-9a-f]+\\] ", ""));
    }
    out.sort(null);
    return out;
  }

  private static List<String> expected(Report r, String function) {
    List<String> out = new ArrayList<>();
    r.workers().forEach((id, goid) -> out.add(String.format("goid[%06d]: %s(id=%d)", goid, function, id)));
    out.sort(null);
    return out;
  }

  /**
   * A leaf without a stack check and a function with one, each called once from six
   * goroutines that exit at once: every line shows the goroutine the call ran on.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("toolchainsAndBackends")
  void every_go_call_shows_the_goroutine_it_ran_on(GoToolchain go, String backend) throws Exception {
    Traced t = trace(go, backend, "^main\\.(leaf|nonLeaf)$");
    assertEquals(expected(t.report(), "main.leaf"), lines(t.sink(), "main.leaf"), t.sink().text());
    assertEquals(expected(t.report(), "main.nonLeaf"), lines(t.sink(), "main.nonLeaf"), t.sink().text());
  }

  /**
   * An assembly function (ABI0 convention for g: only TLS holds it): ptrace and inproc read
   * g from thread-local storage at the call; uprobes cannot read the fs base, so they show
   * no goid and say so, never a guess.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("toolchainsAndBackends")
  void an_assembly_function_shows_its_goroutine_from_tls_or_none(GoToolchain go, String backend) throws Exception {
    checkAssemblyGoids(go.build("conformance", GoPrograms.CONFORMANCE), backend);
  }

  /**
   * Linked externally (cgo, the system linker): g's TLS slot is then where the linker put
   * runtime.tlsg in the executable's TLS block.
   */
  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"ptrace", "uprobe", "inproc"})
  void an_externally_linked_program_shows_its_goroutines_from_tls_too(String backend) throws Exception {
    Path prog = GoToolchains.newest().buildCgo("conformance-external", GoPrograms.CONFORMANCE, "-ldflags=-linkmode=external");
    checkAssemblyGoids(prog, backend);
    Traced t = trace(prog, backend, "^main\\.leaf$");
    assertEquals(expected(t.report(), "main.leaf"), lines(t.sink(), "main.leaf"), t.sink().text());
  }

  private void checkAssemblyGoids(Path prog, String backend) throws Exception {
    String asm = "internal/bytealg.IndexByteString";
    Traced t = trace(prog, backend, "^" + Pattern.quote(asm) + "$");
    Map<Long, Long> byLength = new TreeMap<>();
    for (TraceEvent e : t.sink().calls(asm)) {
      long length = e.values()[1]; // RBX: the string's length, 1000 + id
      if (length > 1000 && length <= 1006) assertEquals(null, byLength.put(length - 1000, e.goid()), "one call each");
    }
    assertEquals(6, byLength.size(), t.sink().text());
    for (var w : t.report().workers().entrySet()) {
      long want = backend.equals("uprobe") ? TraceEvent.NO_GOID : w.getValue();
      assertEquals(want, byLength.get(w.getKey()), "worker " + w.getKey() + "\n" + t.sink().text());
    }
    if (backend.equals("uprobe")) assertTrue(t.messages().contains("goid[------]"), t.messages());
  }

  /** What {@link GoPrograms#ARGS} must show, call then return, with goroutine 1. */
  private static final List<String> DECODED = List.of(
      "main.scalars(n=-41, i8=-8, u=65535, ok=true, np=nil)",
      "main.scalars -> (~r0=65486)",
      "main.texts(s=\"hi\", empty=\"\", long=\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"..., xs=[]int(len=2 cap=5))",
      "main.texts -> (~r0=\"hi!\", ~r1=2)",
      "main.shapes(pt={X:1 Y:2}, any=int, err=*errors.errorString, none=nil)",
      "main.shapes -> (~r0={X:2 Y:1}, ~r1=*errors.errorString)",
      "main.many(a=1, b=2, c=3, d=4, e=5, f=6, g=7, h=8, i=9, j=10, s=\"stack\")",
      "main.many -> (~r0=16)");

  /**
   * Every backend, every Go: the same decoded lines, strings, stack arguments and
   * interfaces' types captured at the call, results at the return.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("toolchainsAndBackends")
  void arguments_and_results_are_decoded_at_the_call_and_the_return(GoToolchain go, String backend) {
    CollectingSink sink = decoded(go, backend, "^main\\.(scalars|texts|shapes|many)$", true);
    assertEquals(backend, sink.report.backend());
    assertEquals(DECODED, decodedLines(sink), sink.text());
  }

  /** Floats are in X registers, at the call and the return: ptrace and inproc read them; uprobes cannot, and say so instead. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void floats_are_decoded_by_ptrace_and_refused_by_uprobe_naming_the_backend_that_can(GoToolchain go) {
    CollectingSink sink = decoded(go, "ptrace", "^main\\.floats$", true);
    assertEquals(List.of("main.floats(f=2.5, g=0.5)", "main.floats -> (~r0=1.25)"), decodedLines(sink), sink.text());
    CollectingSink inproc = decoded(go, "inproc", "^main\\.floats$", true);
    assertEquals(List.of("main.floats(f=2.5, g=0.5)", "main.floats -> (~r0=1.25)"), decodedLines(inproc), inproc.text());
    RefusedException e = assertThrows(RefusedException.class, () -> decoded(go, "uprobe", "^main\\.floats$", false));
    assertEquals("uprobes cannot read floating-point registers (main.floats's f): use the ptrace backend", e.getMessage());
  }

  static Stream<GoToolchain> toolchains() {
    return GoToolchains.all().stream();
  }

  private static CollectingSink decoded(GoToolchain go, String backend, String filter, boolean returns) {
    Path prog = go.build("args", GoPrograms.ARGS);
    CollectingSink sink = new CollectingSink();
    Selection sel = new Selection(Optional.of(Pattern.compile(filter)), Optional.empty(), returns, true);
    TraceConfig config = new TraceConfig(sel, Optional.of(backend), true, List.of(sink),
        new PrintStream(new ByteArrayOutputStream()));
    assertEquals(0, TraceSession.launch(List.of(prog.toString()), config).run());
    return sink;
  }

  /** The lines of goroutine 1 from the function name on, the durations left out. */
  private static List<String> decodedLines(CollectingSink sink) {
    List<String> out = new ArrayList<>();
    for (String l : sink.text().split("\n")) {
      if (!l.contains("goid[000001]: ")) continue;
      out.add(l.replaceFirst("^.*?\\] main\\.", "main.").replaceFirst(" [0-9.]+us$", ""));
    }
    return out;
  }
}
