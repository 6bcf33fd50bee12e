package io.qpatch.cli;

import io.qpatch.error.BadInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * {@code qpatch demo}: the seed's first use case, live. Builds examples/ with gcc,
 * starts cmain, shows its output, replaces its sleep() with cpatch.o, shows the output
 * change, rolls back, shows it return, then hooks sleep() with chook.o the same way.
 * Everything it starts is stopped and its temporary directory removed, also on Ctrl-C.
 */
final class Demo {
  /** cmain prints once per sleep(5); a window this long shows at least one line. */
  static final Duration WINDOW = Duration.ofSeconds(6);

  private final Io io;
  private final Commands commands;
  private final Path examples;
  private final Duration window;

  /** {@code window}: how long each phase of cmain's output is shown. */
  Demo(Io io, Commands commands, Path home, Duration window) {
    this.io = io;
    this.commands = commands;
    this.examples = home.resolve("examples");
    this.window = window;
  }

  /**
   * The qpatch checkout: {@code qpatch.home} is set by the launcher, {@code qpatch.repo}
   * by the Maven test run.
   */
  static Path home() {
    for (String property : List.of("qpatch.home", "qpatch.repo")) {
      String value = System.getProperty(property);
      if (value != null && Files.isRegularFile(Path.of(value, "examples", "cmain.c"))) {
        return Path.of(value);
      }
    }
    throw new BadInputException("cannot find the bundled examples (examples/cmain.c): "
        + "run the demo through the ./qpatch launcher of a qpatch checkout");
  }

  int run() {
    try (Cleanup cleanup = new Cleanup()) {
      Path dir = createTempDirectory();
      cleanup.add(() -> deleteRecursively(dir));
      step("building the examples with gcc in " + dir);
      Path cmain = gcc(dir, "cmain.c", "-o", "cmain");
      Path cpatch = gcc(dir, "cpatch.c", "-c", "-o", "cpatch.o");
      Path chook = gcc(dir, "chook.c", "-c", "-o", "chook.o");
      DemoTarget target = DemoTarget.start(cmain, io.out());
      cleanup.add(target::stop);
      return runTarget(target, cpatch, chook);
    }
  }

  private int runTarget(DemoTarget target, Path cpatch, Path chook) {
    step("started cmain, pid " + target.pid() + "; it prints 'c test' every 5 seconds:");
    target.show(window);
    try {
      patchAndRollBack(target, cpatch, "cpatch.o replaces sleep(): no more sleeping");
      patchAndRollBack(target, chook, "chook.o hooks sleep(): a log line before and after it");
    } catch (NotYetAvailableException e) {
      io.err().println("qpatch: demo: the patch step is not yet available in this build; "
          + "stopping cmain (pid " + target.pid() + ")");
      return Cli.EXIT_NOT_AVAILABLE;
    }
    step("stopping cmain (pid " + target.pid() + ")");
    return Cli.EXIT_OK;
  }

  private void patchAndRollBack(DemoTarget target, Path object, String what) {
    int pid = target.pid();
    Optional<Path> patch = Optional.of(object);
    step(what + ": qpatch -o " + object.getFileName() + " -p " + pid + " -l, then -a");
    commands.patch(PatchAction.LOAD, patch, pid);
    commands.patch(PatchAction.ACTIVATE, patch, pid);
    target.show(window);
    step("roll back, cmain behaves as before: qpatch -o " + object.getFileName() + " -p " + pid + " -r");
    commands.patch(PatchAction.ROLLBACK, patch, pid);
    target.show(window);
  }

  private void step(String message) {
    io.out().println("==> " + message);
    io.out().flush();
  }

  /** Compiles examples/SOURCE in DIR; the last argument names the output file. */
  private Path gcc(Path dir, String source, String... arguments) {
    List<String> command = new ArrayList<>(List.of("gcc", examples.resolve(source).toString()));
    command.addAll(List.of(arguments));
    io.out().println("    gcc examples/" + source + " " + String.join(" ", arguments));
    Tools.runQuietly(command, dir, "gcc", "install gcc (apt-get install gcc)");
    return dir.resolve(command.getLast());
  }

  private static Path createTempDirectory() {
    try {
      return Files.createTempDirectory("qpatch-demo-");
    } catch (IOException e) {
      throw new UncheckedIOException("creating the demo's temporary directory", e);
    }
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("removing " + dir, e);
    }
  }
}
