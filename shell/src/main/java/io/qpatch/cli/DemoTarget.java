package io.qpatch.cli;

import io.qpatch.error.BadInputException;
import io.qpatch.error.ProcessExitedException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The demo's running cmain, its output shown in windows of a few lines, until
 * {@link #stop()}.
 *
 * <p>cmain is started by a {@code sh} that waits for it, not by this JVM directly: the
 * JDK's process reaper waits for the JVM's own children and would steal ptrace stops
 * once the engine traces cmain, and the waiting shell reaps cmain when it is killed
 * (PID 1 of a container does not always reap orphans).
 */
final class DemoTarget {
  private static final int LINES_PER_WINDOW = 6;
  /** Lines kept for {@link #showUntil}'s condition; a patched cmain prints very fast. */
  private static final int MAX_KEPT = 100;
  private static final String PREFIX = "    cmain| ";
  /**
   * stdbuf -oL: cmain's stdout is a pipe, which stdio buffers in 4 KiB blocks, so its
   * lines would show minutes late; line buffering shows each as it is printed. Ctrl-C
   * reaches the whole process group: the shell then stops cmain and reaps it before it
   * exits itself (cmain, started with &, ignores SIGINT).
   */
  private static final String SCRIPT = """
      stdbuf -oL "$0" 2>&1 &
      child=$!
      trap 'kill $child 2>/dev/null' INT TERM HUP
      echo $child >&2
      wait $child
      wait $child 2>/dev/null
      """;

  private final Process shell;
  private final int pid;
  /** Kept from the start: a handle checks the start time, so a reused pid is left alone. */
  private final Optional<ProcessHandle> cmain;
  private final PrintStream out;
  private final List<String> seen = new ArrayList<>();
  private boolean windowOpen;
  private int shown;
  private int suppressed;

  private DemoTarget(Process shell, int pid, PrintStream out) {
    this.shell = shell;
    this.pid = pid;
    this.cmain = ProcessHandle.of(pid);
    this.out = out;
  }

  static DemoTarget start(Path executable, PrintStream out) {
    Process shell = startShell(executable);
    DemoTarget target = new DemoTarget(shell, readPid(shell, executable), out);
    Thread.ofPlatform().daemon().name("qpatch-demo-output").start(target::pump);
    return target;
  }

  private static Process startShell(Path executable) {
    try {
      return new ProcessBuilder("sh", "-c", SCRIPT, executable.toString())
          .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
          .start();
    } catch (IOException e) {
      throw new BadInputException("cannot start " + executable + " through sh: " + e.getMessage());
    }
  }

  /** The shell's first stderr line is cmain's pid ({@code echo $!}). */
  private static int readPid(Process shell, Path executable) {
    try {
      String line = shell.errorReader().readLine();
      if (line == null || !line.matches("[0-9]+")) {
        throw new BadInputException("starting " + executable + " failed: the shell said " + line);
      }
      return Integer.parseInt(line);
    } catch (IOException e) {
      throw new BadInputException("starting " + executable + " failed: " + e.getMessage());
    }
  }

  int pid() {
    return pid;
  }

  /** Prints what cmain says during {@code window}, the first few lines of it. */
  void show(Duration window) {
    showUntil(lines -> false, window);
  }

  /**
   * Prints what cmain says (the first few lines, then how many more) until the lines seen
   * since this call satisfy {@code done}, or {@code atMost} has passed.
   */
  void showUntil(Predicate<List<String>> done, Duration atMost) {
    long deadline = System.nanoTime() + atMost.toNanos();
    synchronized (this) {
      windowOpen = true;
      shown = 0;
      suppressed = 0;
      seen.clear();
      while (!done.test(seen) && System.nanoTime() < deadline && shell.isAlive()) {
        waitQuietly(deadline);
      }
      windowOpen = false;
      if (suppressed > 0) {
        out.println(PREFIX + "... and " + suppressed + " more lines");
      }
    }
    if (!shell.isAlive()) {
      throw new ProcessExitedException(pid, -1, "cmain (pid " + pid + ") has exited");
    }
  }

  private void waitQuietly(long deadline) {
    long millis = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
    try {
      wait(Math.min(millis, 100));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void pump() {
    try (BufferedReader lines = shell.inputReader()) {
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        offer(line);
      }
    } catch (IOException e) {
      // The pipe closes when cmain is stopped: there is nothing more to show.
    }
  }

  private synchronized void offer(String line) {
    if (!windowOpen) {
      return;
    }
    if (seen.size() < MAX_KEPT) {
      seen.add(line);
      notifyAll();
    }
    if (shown < LINES_PER_WINDOW) {
      out.println(PREFIX + line);
      out.flush();
      shown++;
    } else {
      suppressed++;
    }
  }

  /** SIGTERM to cmain (it has no handler), SIGKILL to both if that was not enough. */
  void stop() {
    cmain.ifPresent(ProcessHandle::destroy);
    if (!awaitShellExit(Duration.ofSeconds(5))) {
      cmain.ifPresent(ProcessHandle::destroyForcibly);
      shell.destroyForcibly();
      awaitShellExit(Duration.ofSeconds(5));
    }
  }

  private boolean awaitShellExit(Duration timeout) {
    try {
      return shell.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
