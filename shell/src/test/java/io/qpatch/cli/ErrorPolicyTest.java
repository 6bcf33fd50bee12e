package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.error.BadInputException;
import io.qpatch.error.ProcessExitedException;
import io.qpatch.error.RefusedException;
import io.qpatch.error.SyscallException;
import org.junit.jupiter.api.Test;

/** What the user sees when a command fails, decided in one place ({@link Cli}). */
class ErrorPolicyTest {

  @Test
  void a_qpatch_exception_is_one_line_on_stderr_with_exit_1() {
    RecordingCommands engine = RecordingCommands.failingWith(
        new BadInputException("no process with pid 999999999: check the pid (pidof cmain)"));
    CliRun run = CliRun.of(io -> engine, "qpatch", "info", "-p", "999999999");
    assertEquals(1, run.exit());
    assertEquals("qpatch: no process with pid 999999999: check the pid (pidof cmain)\n", run.err());
    assertEquals("", run.out());
  }

  @Test
  void every_kind_of_qpatch_exception_gets_the_same_treatment() {
    for (RuntimeException failure : new RuntimeException[] {
        new RefusedException("thread 12 is inside sleep"),
        new SyscallException("ptrace(PTRACE_SEIZE)", 12, 1, "ptrace(PTRACE_SEIZE) on 12: EPERM"),
        new ProcessExitedException(12, 0)}) {
      CliRun run = CliRun.of(io -> RecordingCommands.failingWith(failure), "qpatch", "info", "-p", "12");
      assertEquals(1, run.exit(), failure.toString());
      assertEquals("qpatch: " + failure.getMessage() + "\n", run.err());
    }
  }

  @Test
  void a_message_with_line_breaks_is_still_printed_on_one_line() {
    RecordingCommands engine = RecordingCommands.failingWith(new BadInputException("first\nsecond\n"));
    CliRun run = CliRun.of(io -> engine, "qpatch", "info", "-p", "1");
    assertEquals("qpatch: first; second\n", run.err());
  }

  @Test
  void gotrace_names_itself_in_its_messages() {
    RecordingCommands engine = RecordingCommands.failingWith(new BadInputException("./prog: not an ELF file"));
    CliRun run = CliRun.of(io -> engine, "gotrace", "./prog");
    assertEquals(1, run.exit());
    assertEquals("gotrace: ./prog: not an ELF file\n", run.err());
  }

  @Test
  void any_other_exception_is_an_internal_error_with_its_stack_trace_and_exit_70() {
    RecordingCommands engine = RecordingCommands.failingWith(new IllegalStateException("tracer thread died"));
    CliRun run = CliRun.of(io -> engine, "qpatch", "info", "-p", "1");
    assertEquals(70, run.exit());
    assertTrue(run.err().startsWith("qpatch: internal error"), run.err());
    assertTrue(run.err().contains("java.lang.IllegalStateException: tracer thread died"), run.err());
    assertTrue(run.err().contains("\tat io.qpatch.cli."), run.err());
  }

  @Test
  void the_jar_without_a_tool_name_prints_how_to_run_it() {
    CliRun run = CliRun.parsing("--help");
    assertEquals(2, run.exit());
    assertTrue(run.err().startsWith("usage: java -jar qpatch.jar qpatch|gotrace"), run.err());
  }
}
