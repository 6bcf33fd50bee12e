package io.qpatch.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The seam between the command line and the engine: every command that touches a
 * process goes through here, after its options have been parsed and checked.
 * Implementations print their results on the {@link Io} they were made with and
 * report user errors as {@link io.qpatch.error.QpatchException}s.
 *
 * <p>The engine is wired in ONE place, {@link #forThisBuild(Io)}.
 */
public interface Commands {

  /** {@code qpatch -o PATCH.o -p PID -l|-a|-r|-q}; {@code object} is absent only for -q. */
  void patch(PatchAction action, Optional<Path> object, int pid);

  /**
   * A lifecycle command or apply on a selection of processes ({@code -p 1,2}, {@code --exe},
   * {@code --lib}, {@code --dry-run}, {@code --json}): returns 0 when every selected
   * process ended as asked, else 1.
   */
  int fleet(FleetCommands.Request request);

  /** {@code qpatch status}: every process on this host that carries a patch. */
  int status();

  /** {@code qpatch apply -o PATCH.o -p PID}: load and activate in one stop. */
  void apply(Path object, int pid);

  /** {@code qpatch info -p PID}: threads (tid, state, pc as symbol+offset) and modules. */
  void info(int pid);

  /**
   * {@code qpatch sym -p PID NAME...}: one line {@code NAME 0xADDRESS MODULE} per name found;
   * then, if any was not found, a {@link io.qpatch.error.BadInputException} naming them
   * (exit status 1).
   */
  void sym(int pid, List<String> names);

  /** {@code qpatch shell [-p PID]}: the interactive JShell; returns its exit status. */
  int shell(OptionalInt pid);

  /** {@code qpatch run SCRIPT [ARGS...]}: returns the script's exit status. */
  int run(Path script, List<String> args);

  /**
   * {@code gotrace ...}: returns the launched program's exit status (128 + signal when a
   * signal killed it, as a shell reports it), or 0 after detaching from {@code -p PID}.
   */
  int trace(TraceOptions options);

  /** The commands: {@link EngineCommands} routes each to its implementation. */
  static Commands forThisBuild(Io io) {
    return new EngineCommands(io);
  }
}
