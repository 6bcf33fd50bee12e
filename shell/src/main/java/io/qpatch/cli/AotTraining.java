package io.qpatch.cli;

import java.util.List;

/**
 * The workload of the launcher's AOT-cache training run ({@code -XX:AOTCacheOutput},
 * JEP 514): the command-line paths every invocation goes through (help, version,
 * option parsing of both tools, the error paths), with all output discarded, through
 * {@link Inert} commands, so training never touches a process.
 */
final class AotTraining {
  /** The jar's only argument in a training run. */
  static final String ARGUMENT = "--aot-training";

  private static final List<List<String>> WORKLOAD = List.of(
      List.of("qpatch", "--version"),
      List.of("qpatch", "--help"),
      List.of("qpatch", "info", "--help"),
      List.of("qpatch", "-o", "patch.o", "-p", "1", "-l"),
      List.of("qpatch", "apply", "-o", "patch.o", "-p", "1"),
      List.of("qpatch", "sym", "-p", "1", "main", "sleep"),
      List.of("qpatch", "--bogus"),
      List.of("gotrace", "--help"),
      List.of("gotrace", "-f", "main\\..*", "--returns", "--format", "json", "./prog", "-p", "5"),
      List.of("gotrace", "-p", "1", "--duration", "2.5", "--args=decoded"));

  private AotTraining() {}

  static void run() {
    Cli cli = new Cli(Io.discarding(), io -> new Inert());
    for (List<String> args : WORKLOAD) {
      cli.run(args.toArray(String[]::new));
    }
  }

  /** Commands that do nothing: the training exercises parsing and dispatch, not the engine. */
  private static final class Inert implements Commands {
    @Override
    public void patch(PatchAction action, java.util.Optional<java.nio.file.Path> object, int pid) {}

    @Override
    public int fleet(FleetCommands.Request request) {
      return Cli.EXIT_OK;
    }

    @Override
    public int status() {
      return Cli.EXIT_OK;
    }

    @Override
    public void apply(java.nio.file.Path object, int pid) {}

    @Override
    public void info(int pid) {}

    @Override
    public void sym(int pid, List<String> names) {}

    @Override
    public int shell(java.util.OptionalInt pid) {
      return Cli.EXIT_OK;
    }

    @Override
    public int run(java.nio.file.Path script, List<String> args) {
      return Cli.EXIT_OK;
    }

    @Override
    public int trace(TraceOptions options) {
      return Cli.EXIT_OK;
    }
  }
}
