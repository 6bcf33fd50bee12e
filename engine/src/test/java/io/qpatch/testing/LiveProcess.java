package io.qpatch.testing;

import io.qpatch.sys.Libc;
import io.qpatch.sys.Signals;
import io.qpatch.sys.Spawn;
import io.qpatch.sys.WaitFlags;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A test target: a real program started with posix_spawn (not ProcessBuilder, whose
 * reaper would steal ptrace stops), its stdout and stderr sent to a file. {@code
 * close()} kills and reaps it, so no test leaves a process behind.
 */
public final class LiveProcess implements AutoCloseable {
  private final int pid;
  private final Path output;
  private boolean reaped;

  private LiveProcess(int pid, Path output) {
    this.pid = pid;
    this.output = output;
  }

  /** Starts {@code argv} with output to {@code output}; the shell execs, so pid is the program's. */
  public static LiveProcess start(Path output, String... argv) {
    List<String> sh = new ArrayList<>(List.of("/bin/sh", "-c", "exec \"$@\" >\"$0\" 2>&1",
        output.toString()));
    sh.addAll(List.of(argv));
    int pid = Spawn.spawn(sh, null);
    LiveProcess p = new LiveProcess(pid, output);
    p.awaitExec(argv[0]);
    return p;
  }

  /** Waits until the shell has exec'd the program (its /proc/PID/exe is the program). */
  private void awaitExec(String program) {
    String name = Path.of(program).getFileName().toString();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (Files.readSymbolicLink(Path.of("/proc", "" + pid, "exe")).toString().endsWith(name)) {
          return;
        }
      } catch (IOException e) {
        // not there yet
      }
      Thread.onSpinWait();
    }
    throw new AssertionError("program " + program + " did not start");
  }

  public int pid() {
    return pid;
  }

  public String output() {
    try {
      return Files.readString(output);
    } catch (IOException e) {
      return "";
    }
  }

  /** Waits up to {@code timeout} for the output to satisfy {@code condition}. */
  public String awaitOutput(Predicate<String> condition, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String out = output();
    while (!condition.test(out)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for output of pid " + pid + "; got:\n" + out);
      }
      sleep(10);
      out = output();
    }
    return out;
  }

  /** Sends {@code signal} to the process. */
  public void signal(int signal) {
    Libc.kill(pid, signal);
  }

  /** Waits for the process to exit by itself; returns its raw wait status. */
  public int waitExit() {
    int[] status = new int[1];
    Libc.waitpid(pid, status, 0);
    reaped = true;
    return status[0];
  }

  public boolean isAlive() {
    return !reaped && Files.exists(Path.of("/proc", Integer.toString(pid)));
  }

  @Override
  public void close() {
    if (reaped) return;
    try {
      Libc.kill(pid, Signals.SIGKILL);
    } catch (RuntimeException e) {
      // already gone
    }
    int[] status = new int[1];
    try {
      Libc.waitpid(pid, status, WaitFlags.__WALL);
    } catch (RuntimeException e) {
      // reaped elsewhere
    }
    reaped = true;
  }

  public static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
