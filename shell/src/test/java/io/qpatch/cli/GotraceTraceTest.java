package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** gotrace through the command line with the real engine, in-process. */
class GotraceTraceTest {
  @TempDir Path tmp;

  private static CliRun gotrace(String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "gotrace";
    System.arraycopy(args, 0, all, 1, args.length);
    return CliRun.of(Commands::forThisBuild, all);
  }

  @Test
  void launch_prints_seed_lines_and_exits_with_the_programs_status() throws Exception {
    Path prog = TraceTargets.compile(tmp, "add6", TraceTargets.ADD6);
    CliRun run = gotrace("-f", "^add6$", prog.toString());
    assertEquals(7, run.exit(), run.err());
    List<String> lines = run.out().lines().toList();
    assertEquals(3, lines.size(), run.out());
    assertTrue(lines.get(0).matches("tid\\[\\d{8}\\]: \\[0x[0-9a-f]+\\] add6 <-\\( 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, \\.\\.\\. \\)"),
        lines.get(0));
    assertTrue(run.err().contains("1 probed with"), run.err());
  }

  @Test
  void json_lines_with_returns_and_the_chrome_file_and_summary() throws Exception {
    Path prog = TraceTargets.compile(tmp, "add6", TraceTargets.ADD6);
    Path chrome = tmp.resolve("trace.json");
    Path out = tmp.resolve("out.jsonl");
    CliRun run = gotrace("--format", "json", "--returns", "--summary", "--chrome", chrome.toString(),
        "-o", out.toString(), "--backend", "ptrace", "-f", "^add6$", prog.toString());
    assertEquals(7, run.exit(), run.err());
    List<String> lines = Files.readAllLines(out);
    List<String> events = lines.stream().filter(l -> l.startsWith("{")).toList();
    assertEquals(6, events.size(), String.join("\n", lines));
    assertTrue(events.get(0).contains("\"event\":\"call\"") && events.get(0).contains("\"function\":\"add6\"")
        && events.get(0).contains("\"args\":[\"0x1\",\"0x2\",\"0x3\",\"0x4\",\"0x5\",\"0x6\"]"), events.get(0));
    assertTrue(events.get(1).contains("\"event\":\"return\"") && events.get(1).contains("\"results\":[\"0x15\""),
        events.get(1));
    assertTrue(events.get(1).contains("\"duration_ns\":"), events.get(1));
    assertTrue(lines.stream().anyMatch(l -> l.matches("add6\\s+3\\s+.*")), String.join("\n", lines));
    String trace = Files.readString(chrome);
    assertTrue(trace.startsWith("{\"displayTimeUnit\":\"ns\",\"traceEvents\":["), trace);
    assertEquals(3, trace.split("\"ph\":\"X\"", -1).length - 1, trace);
    assertTrue(trace.strip().endsWith("]}"), trace);
  }

  @Test
  void attach_for_a_duration_detaches_and_the_program_runs_on() throws Exception {
    Path prog = TraceTargets.compile(tmp, "ticker", TraceTargets.TICKER);
    try (TraceTargets.Running target = TraceTargets.Running.start(prog, tmp.resolve("ticks.txt"))) {
      target.awaitTicks(2);
      CliRun run = gotrace("-p", Integer.toString(target.pid()), "--duration", "0.5", "-f", "^tick$");
      assertEquals(0, run.exit(), run.err());
      assertTrue(run.out().lines().filter(l -> l.contains("] tick <-( ")).count() >= 3, run.out());
      int seen = target.ticks();
      target.awaitTicks(seen + 4);
      assertTrue(target.alive());
    }
  }

  @Test
  void a_launched_program_runs_on_untraced_after_the_duration_and_its_status_is_kept() throws Exception {
    Path prog = TraceTargets.compile(tmp, "countdown", TraceTargets.COUNTDOWN);
    CliRun run = gotrace("--duration", "0.4", "--backend", "ptrace", "-f", "^tick$", prog.toString());
    assertEquals(5, run.exit(), run.err());
    long traced = run.out().lines().filter(l -> l.contains("] tick <-( ")).count();
    assertTrue(traced >= 2 && traced < 20, "calls traced during 0.4 s of 1.5: " + traced);
  }

  @Test
  void an_unknown_program_is_one_line() {
    CliRun run = gotrace(tmp.resolve("nope").toString());
    assertEquals(1, run.exit());
    assertEquals("gotrace: cannot run '" + tmp.resolve("nope") + "': no such file\n", run.err());
  }

  static final String LIBCALLS = """
      #include <stdlib.h>
      int main(void) { return labs(-7) + labs(-8) == 15 ? 0 : 1; }
      """;

  @Test
  void a_library_function_named_by_the_filter_is_traced_in_the_default_backend() throws Exception {
    Path prog = TraceTargets.compile(tmp, "libcalls", LIBCALLS, "-fno-builtin");
    CliRun run = gotrace("-f", "^labs$", prog.toString());
    assertEquals(0, run.exit(), run.err());
    List<String> lines = run.out().lines().toList();
    assertEquals(2, lines.size(), run.out());
    assertTrue(lines.get(0).matches("tid\\[\\d{8}\\]: \\[0x[0-9a-f]+\\] libc\\.so\\.6!labs <-\\( 0xfffffffffffffff9, .*"), lines.get(0));
  }

  @Test
  void a_filter_that_matches_nothing_is_one_line_naming_close_functions_and_status_1() throws Exception {
    Path prog = TraceTargets.compile(tmp, "libcalls", LIBCALLS, "-fno-builtin");
    CliRun run = gotrace("-f", "^labz$", prog.toString());
    assertEquals(1, run.exit(), run.err());
    assertEquals(1, run.err().lines().count(), run.err());
    assertTrue(run.err().startsWith("gotrace: no function of pid ") && run.err().contains("close: ")
        && run.err().contains("libc.so.6!labs"), run.err());
  }
}
