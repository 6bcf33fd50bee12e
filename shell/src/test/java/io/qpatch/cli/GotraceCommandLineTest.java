package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.cli.TraceOptions.ArgsMode;
import io.qpatch.cli.TraceOptions.Backend;
import io.qpatch.cli.TraceOptions.OutputFormat;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GotraceCommandLineTest {

  private static TraceOptions parse(String... args) {
    RecordingCommands engine = new RecordingCommands();
    String[] argv = new String[args.length + 1];
    argv[0] = "gotrace";
    System.arraycopy(args, 0, argv, 1, args.length);
    CliRun run = CliRun.of(io -> engine, argv);
    assertEquals(0, run.exit(), run.err());
    return engine.traced;
  }

  private static CliRun fails(String... args) {
    String[] argv = new String[args.length + 1];
    argv[0] = "gotrace";
    System.arraycopy(args, 0, argv, 1, args.length);
    CliRun run = CliRun.parsing(argv);
    assertEquals(2, run.exit(), run.err());
    assertTrue(run.err().contains("usage: gotrace [OPTIONS] PROGRAM [ARGS...]"), run.err());
    return run;
  }

  @Test
  void options_after_program_belong_to_the_program_untouched() {
    TraceOptions options = parse("./prog", "-p", "5", "--returns", "--", "x");
    assertEquals(List.of("./prog", "-p", "5", "--returns", "--", "x"), options.command());
    assertEquals(OptionalInt.empty(), options.pid());
    assertFalse(options.returns());
    assertTrue(options.launches());
  }

  @Test
  void double_dash_ends_the_options_even_before_a_program_starting_with_a_dash() {
    assertEquals(List.of("-prog", "a"), parse("--returns", "--", "-prog", "a").command());
  }

  @Test
  void defaults_are_seed_style_text_with_raw_arguments_demangled() {
    TraceOptions options = parse("./gomain");
    assertEquals(new TraceOptions(OptionalInt.empty(), List.of("./gomain"), Optional.empty(), true,
        Optional.empty(), Optional.empty(), false, ArgsMode.RAW, OutputFormat.TEXT, Optional.empty(),
        false, Optional.empty(), Optional.empty()), options);
  }

  @Test
  void every_option_is_parsed_into_the_trace_request() {
    TraceOptions options = parse("-p", "42", "-o", "out.txt", "-c", "-f", "main\\..*", "-x", "runtime",
        "--returns", "--args=decoded", "--format", "json", "--chrome", "t.json", "--summary",
        "--backend", "inproc", "--duration", "2.5", "--lossy");
    assertEquals(OptionalInt.of(42), options.pid());
    assertEquals(List.of(), options.command());
    assertEquals(Optional.of(Path.of("out.txt")), options.output());
    assertFalse(options.demangle());
    assertEquals("main\\..*", options.filter().orElseThrow().pattern());
    assertEquals("runtime", options.exclude().orElseThrow().pattern());
    assertTrue(options.returns());
    assertEquals(ArgsMode.DECODED, options.args());
    assertEquals(OutputFormat.JSON, options.format());
    assertEquals(Optional.of(Path.of("t.json")), options.chrome());
    assertTrue(options.summary());
    assertEquals(Optional.of(Backend.INPROC), options.backend());
    assertEquals(Optional.of(Duration.ofMillis(2500)), options.duration());
    assertTrue(options.lossy());
  }

  @Test
  void long_forms_and_clustered_short_options_work() {
    TraceOptions options = parse("--filter=^main\\.", "--exclude", "x", "--output=o", "-cp", "77");
    assertEquals("^main\\.", options.filter().orElseThrow().pattern());
    assertEquals(OptionalInt.of(77), options.pid());
    assertFalse(options.demangle());
    assertEquals(Optional.of(Path.of("o")), options.output());
  }

  @Test
  void the_traced_programs_exit_status_becomes_gotraces() {
    RecordingCommands engine = new RecordingCommands();
    engine.status = 42;
    assertEquals(42, CliRun.of(io -> engine, "gotrace", "./prog").exit());
  }

  @Test
  void help_and_version_answer_without_tracing() {
    CliRun help = CliRun.parsing("gotrace", "--help");
    assertEquals(0, help.exit());
    assertTrue(help.out().startsWith("usage: gotrace [OPTIONS] PROGRAM [ARGS...]\n"), help.out());
    CliRun version = CliRun.parsing("gotrace", "--version");
    assertEquals(0, version.exit());
    assertTrue(version.out().matches("gotrace \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\n"), version.out());
  }

  @Test
  void help_after_program_is_the_programs() {
    assertEquals(List.of("./prog", "--help"), parse("./prog", "--help").command());
  }

  @Test
  void an_unknown_option_before_program_is_reported_not_run_as_a_program() {
    RecordingCommands engine = new RecordingCommands();
    CliRun run = CliRun.of(io -> engine, "gotrace", "--bogus", "./prog");
    assertEquals(2, run.exit());
    assertTrue(run.err().startsWith("gotrace: Unrecognized option: --bogus\n"), run.err());
    assertNull(engine.traced);
  }

  @Test
  void program_and_pid_together_are_a_usage_error() {
    assertTrue(fails("-p", "5", "./prog").err().startsWith("gotrace: give either PROGRAM or -p PID"));
  }

  @Test
  void neither_program_nor_pid_is_a_usage_error() {
    assertTrue(fails("--returns").err().startsWith("gotrace: missing PROGRAM or -p PID\n"));
  }

  @Test
  void an_option_missing_its_value_is_a_usage_error() {
    fails("-p");
  }

  @ParameterizedTest
  @ValueSource(strings = {"--args=names", "--format=xml", "--backend=ebpf"})
  void a_choice_outside_its_values_is_a_usage_error(String option) {
    assertTrue(fails(option, "./prog").err().contains(" expects "));
  }

  @Test
  void a_bad_regular_expression_is_a_usage_error() {
    assertTrue(fails("-f", "(", "./prog").err().startsWith("gotrace: --filter has a bad regular expression '('"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "-1", "soon", "1e400"})
  void a_duration_that_is_not_a_positive_number_is_a_usage_error(String seconds) {
    fails("--duration", seconds, "-p", "1");
  }

  @Test
  void backend_help_says_what_each_backend_gives_and_which_is_the_default() {
    CliRun run = CliRun.of(io -> new RecordingCommands(), "gotrace", "--backend", "help");
    assertEquals(0, run.exit(), run.err());
    for (String b : List.of("ptrace", "uprobe", "inproc")) assertTrue(run.out().contains("  " + b + "  "), run.out());
    assertTrue(run.out().contains("Default: the fastest that gives everything asked for: inproc when it can probe every"), run.out());
  }

  @Test
  void backend_help_after_the_program_is_the_programs_argument() {
    assertEquals(List.of("./prog", "--backend", "help"), parse("./prog", "--backend", "help").command());
  }
}
