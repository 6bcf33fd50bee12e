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
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * {@code qpatch demo}: the seed's two use cases, live. Builds examples/ with gcc, starts
 * the seed's cmain (unchanged: sleep(5), then "c test"), shows its output, replaces its
 * sleep() with cpatch.o, shows the output change, rolls back, shows it return, then hooks
 * sleep() with chook.o the same way. Each phase shows cmain's output until it has shown
 * what the phase is about (a change takes effect when the sleep(5) in progress ends), at
 * most {@code window}: about 35 seconds in all. Everything it starts is stopped and its
 * temporary directory removed, also on Ctrl-C.
 */
final class Demo {
  /**
   * The longest a phase lasts: the hook's phase needs the sleep(5) in progress to end and
   * then one hooked sleep(5).
   */
  static final Duration WINDOW = Duration.ofSeconds(12);

  private final Io io;
  private final Commands commands;
  private final Path examples;
  private final Duration window;

  /** {@code window}: the longest each phase of cmain's output is shown. */
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
    target.showUntil(count("c test", 1), window);
    replace(target, cpatch);
    hook(target, chook);
    step("stopping cmain (pid " + target.pid() + ")");
    return Cli.EXIT_OK;
  }

  private void replace(DemoTarget target, Path cpatch) {
    int pid = target.pid();
    step("cpatch.o replaces sleep() with one that only prints 'sleep called!':"
        + " qpatch -o cpatch.o -p " + pid + " -l, then -a");
    loadAndActivate(cpatch, pid);
    step("once the sleep(5) in progress returns, cmain runs the new sleep(): no more sleeping");
    target.showUntil(count("sleep called!", 2), window);
    step("roll back: qpatch -o cpatch.o -p " + pid + " -r; cmain sleeps again");
    commands.patch(PatchAction.ROLLBACK, Optional.of(cpatch), pid);
    target.showUntil(count("c test", 1), window);
  }

  private void hook(DemoTarget target, Path chook) {
    int pid = target.pid();
    step("chook.o hooks sleep(): a line before and after the original sleep():"
        + " qpatch -o chook.o -p " + pid + " -l, then -a");
    loadAndActivate(chook, pid);
    step("once the sleep(5) in progress returns, every sleep() goes through the hook");
    target.showUntil(inOrder("before sleep called!", "after sleep called!", "c test"), window);
    step("roll back: qpatch -o chook.o -p " + pid + " -r (it waits for the hooked sleep() to return)");
    commands.patch(PatchAction.ROLLBACK, Optional.of(chook), pid);
    target.showUntil(count("c test", 1), window);
  }

  private void loadAndActivate(Path object, int pid) {
    commands.patch(PatchAction.LOAD, Optional.of(object), pid);
    commands.patch(PatchAction.ACTIVATE, Optional.of(object), pid);
  }

  /** At least {@code n} lines equal to {@code line}. */
  private static Predicate<List<String>> count(String line, int n) {
    return lines -> lines.stream().filter(line::equals).count() >= n;
  }

  /** {@code wanted} appear in this order (other lines may come between). */
  private static Predicate<List<String>> inOrder(String... wanted) {
    return lines -> {
      int next = 0;
      for (String l : lines) {
        if (next < wanted.length && l.equals(wanted[next])) next++;
      }
      return next == wanted.length;
    };
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
