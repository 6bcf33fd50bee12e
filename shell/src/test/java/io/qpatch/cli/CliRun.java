package io.qpatch.cli;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/** One in-process run of the command line: its exit status and what it printed. */
record CliRun(int exit, String out, String err) {

  static CliRun of(Function<Io, Commands> commands, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Io io = new Io(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), InputStream.nullInputStream());
    int exit = new Cli(io, commands).run(args);
    return new CliRun(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** A run against the commands of a build without the engine. */
  /** The command line alone: the engine records what it is asked and does nothing (for parsing and usage tests). */
  static CliRun parsing(String... args) {
    return of(io -> new RecordingCommands(), args);
  }
}
