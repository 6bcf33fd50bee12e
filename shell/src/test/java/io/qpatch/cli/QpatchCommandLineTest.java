package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class QpatchCommandLineTest {
  private static final String VERSION_LINE = "qpatch \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\n";

  /** "" stands for the top level (the seed's lifecycle flags). */
  private static String[] args(String command, String... rest) {
    List<String> args = new ArrayList<>(List.of("qpatch"));
    if (!command.isEmpty()) {
      args.add(command);
    }
    args.addAll(List.of(rest));
    return args.toArray(String[]::new);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "apply", "info", "sym", "demo", "shell", "run"})
  void help_prints_the_commands_usage_on_stdout_and_exits_0(String command) {
    CliRun run = CliRun.parsing(args(command, "--help"));
    assertEquals(0, run.exit());
    assertTrue(run.out().startsWith("usage: qpatch" + (command.isEmpty() ? "" : " " + command)), run.out());
    assertTrue(run.out().contains("--version"), run.out());
    assertEquals("", run.err());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "apply", "info", "sym", "demo", "shell", "run"})
  void version_prints_the_project_version_and_exits_0(String command) {
    CliRun run = CliRun.parsing(args(command, "--version"));
    assertEquals(0, run.exit());
    assertTrue(run.out().matches(VERSION_LINE), run.out());
    assertEquals("", run.err());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "apply", "info", "sym", "demo", "shell", "run"})
  void unknown_option_prints_the_message_and_usage_on_stderr_and_exits_2(String command) {
    CliRun run = CliRun.parsing(args(command, "--bogus"));
    assertEquals(2, run.exit());
    assertTrue(run.err().startsWith("qpatch: Unrecognized option: --bogus\nusage: qpatch"), run.err());
    assertEquals("", run.out());
  }

  @ParameterizedTest
  @ValueSource(strings = {"info", "apply -o patch.o", "sym main", "-o patch.o -l"})
  void missing_pid_prints_usage_and_exits_2(String arguments) {
    List<String> args = new ArrayList<>(List.of("qpatch"));
    args.addAll(List.of(arguments.split(" ")));
    CliRun run = CliRun.parsing(args.toArray(String[]::new));
    assertEquals(2, run.exit());
    String which = arguments.startsWith("info") || arguments.startsWith("sym") ? "" : " (or --exe PATH, --lib NAME)";
    assertTrue(run.err().startsWith("qpatch: missing -p PID" + which + "\nusage: qpatch"), run.err());
  }

  @ParameterizedTest
  @ValueSource(strings = {"abc", "0", "-5", "99999999999"})
  void a_pid_that_is_not_a_positive_number_is_a_usage_error(String pid) {
    CliRun run = CliRun.parsing("qpatch", "info", "-p", pid);
    assertEquals(2, run.exit());
    assertTrue(run.err().startsWith("qpatch: "), run.err());
    assertTrue(run.err().contains("usage: qpatch info -p PID"), run.err());
  }

  @Test
  void each_seed_lifecycle_flag_reaches_the_engine_with_object_and_pid() {
    RecordingCommands engine = new RecordingCommands();
    for (String flag : List.of("-l", "-a", "-r", "-q")) {
      assertEquals(0, CliRun.of(io -> engine, "qpatch", "-o", "./cpatch.o", "-p", "1234", flag).exit());
    }
    assertEquals(List.of("patch LOAD ./cpatch.o 1234", "patch ACTIVATE ./cpatch.o 1234",
        "patch ROLLBACK ./cpatch.o 1234", "patch QUERY ./cpatch.o 1234"), engine.calls);
  }

  @Test
  void long_lifecycle_options_mean_the_same_as_the_seed_flags() {
    RecordingCommands engine = new RecordingCommands();
    CliRun.of(io -> engine, "qpatch", "--object=p.o", "--pid", "7", "--activate");
    assertEquals(List.of("patch ACTIVATE p.o 7"), engine.calls);
  }

  /** One -p PID alone keeps the seed's commands; more pids, --exe, --lib, --dry-run or --json go to the fleet. */
  @Test
  void a_selection_of_processes_goes_to_the_fleet_commands_one_pid_to_the_seed_ones() {
    RecordingCommands engine = new RecordingCommands();
    CliRun.of(io -> engine, "qpatch", "-o", "p.o", "-p", "7", "-l");
    CliRun.of(io -> engine, "qpatch", "-o", "p.o", "-p", "7,8", "-p", "9", "-l");
    CliRun.of(io -> engine, "qpatch", "apply", "-o", "p.o", "--exe", "/usr/sbin/nginx", "--lib", "libssl.so.3", "--json");
    CliRun.of(io -> engine, "qpatch", "-o", "p.o", "-p", "7", "-r", "--dry-run");
    CliRun.of(io -> engine, "qpatch", "status");
    assertEquals(List.of("patch LOAD p.o 7",
        "fleet LOAD p.o ProcessSelection[pids=[7, 8, 9], executables=[], libraries=[]]",
        "fleet APPLY p.o ProcessSelection[pids=[], executables=[/usr/sbin/nginx], libraries=[libssl.so.3]] json",
        "fleet ROLLBACK p.o ProcessSelection[pids=[7], executables=[], libraries=[]] dry-run",
        "status"), engine.calls);
  }

  @Test
  void a_query_of_several_processes_needs_the_object() {
    CliRun run = CliRun.of(io -> new RecordingCommands(), "qpatch", "-p", "1,2", "-q");
    assertEquals(2, run.exit());
    assertTrue(run.err().startsWith("qpatch: -q on several processes needs -o PATCH.o (qpatch status lists every patch)"), run.err());
  }

  @Test
  void query_without_object_asks_about_every_patch() {
    RecordingCommands engine = new RecordingCommands();
    assertEquals(0, CliRun.of(io -> engine, "qpatch", "-p", "42", "-q").exit());
    assertEquals(List.of("patch QUERY - 42"), engine.calls);
  }

  @Test
  void load_without_object_is_a_usage_error() {
    CliRun run = CliRun.parsing("qpatch", "-p", "42", "-l");
    assertEquals(2, run.exit());
    assertTrue(run.err().startsWith("qpatch: missing -o PATCH.o"), run.err());
  }

  @Test
  void two_lifecycle_flags_at_once_are_a_usage_error() {
    CliRun run = CliRun.parsing("qpatch", "-o", "p.o", "-p", "42", "-l", "-a");
    assertEquals(2, run.exit());
    assertTrue(run.err().startsWith("qpatch: give exactly one of -l (load), -a (activate)"), run.err());
  }

  @Test
  void an_unknown_command_is_named_and_exits_2() {
    CliRun run = CliRun.parsing("qpatch", "frobnicate", "-p", "1");
    assertEquals(2, run.exit());
    assertTrue(run.err().startsWith("qpatch: unknown command 'frobnicate'\n"), run.err());
  }

  @Test
  void no_arguments_at_all_is_a_usage_error() {
    CliRun run = CliRun.parsing("qpatch");
    assertEquals(2, run.exit());
    assertTrue(run.err().contains("usage: qpatch -o PATCH.o -p PID -l|-a|-r|-q"), run.err());
  }

  @Test
  void apply_info_and_sym_reach_the_engine_with_their_arguments() {
    RecordingCommands engine = new RecordingCommands();
    CliRun.of(io -> engine, "qpatch", "apply", "-o", "hook.o", "-p", "5");
    CliRun.of(io -> engine, "qpatch", "info", "-p", "6");
    CliRun.of(io -> engine, "qpatch", "sym", "-p", "7", "sleep", "libc.so.6!printf");
    assertEquals(List.of("apply hook.o 5", "info 6", "sym 7 [sleep, libc.so.6!printf]"), engine.calls);
  }

  @Test
  void sym_without_names_is_a_usage_error() {
    CliRun run = CliRun.parsing("qpatch", "sym", "-p", "7");
    assertEquals(2, run.exit());
    assertTrue(run.err().startsWith("qpatch: missing NAME"), run.err());
  }

  @Test
  void shell_attaches_only_when_given_a_pid() {
    RecordingCommands engine = new RecordingCommands();
    CliRun.of(io -> engine, "qpatch", "shell");
    CliRun.of(io -> engine, "qpatch", "shell", "-p", "9");
    assertEquals(List.of("shell OptionalInt.empty", "shell OptionalInt[9]"), engine.calls);
  }

  @Test
  void run_passes_everything_after_the_script_to_it_and_returns_its_status() {
    RecordingCommands engine = new RecordingCommands();
    engine.status = 4;
    CliRun run = CliRun.of(io -> engine, "qpatch", "run", "scripts/hook.jsh", "-p", "5", "--help", "x");
    assertEquals(4, run.exit());
    assertEquals(List.of("run scripts/hook.jsh [-p, 5, --help, x]"), engine.calls);
  }

  @Test
  void run_without_a_script_is_a_usage_error() {
    CliRun run = CliRun.parsing("qpatch", "run");
    assertEquals(2, run.exit());
    assertTrue(run.err().startsWith("qpatch: missing SCRIPT\n"), run.err());
  }

  @Test
  void an_unexpected_operand_is_a_usage_error() {
    CliRun run = CliRun.parsing("qpatch", "info", "-p", "1", "extra");
    assertEquals(2, run.exit());
    assertTrue(run.err().startsWith("qpatch: unexpected argument 'extra'\n"), run.err());
  }
}
