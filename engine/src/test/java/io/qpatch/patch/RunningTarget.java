package io.qpatch.patch;

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
 * A running test target: started with posix_spawn (a ProcessBuilder child's reaper would
 * steal ptrace stops) through {@code sh -c 'exec stdbuf -oL PROGRAM ... >OUT 2>&1'}, so its
 * stdout is line-buffered into a file and each line shows as it is printed. {@code close()}
 * kills and reaps it.
 */
public final class RunningTarget implements AutoCloseable {
  private final int pid;
  private final Path program;
  private final Path output;
  private boolean reaped;

  private RunningTarget(int pid, Path program, Path output) {
    this.pid = pid;
    this.program = program;
    this.output = output;
  }

  /** Starts {@code program}; returns once it runs its own code (exe is the program, and it slept or printed). */
  public static RunningTarget start(Path output, Path program, String... args) {
    List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c",
        "exec stdbuf -oL \"$@\" >\"$0\" 2>&1", output.toString(), program.toString()));
    argv.addAll(List.of(args));
    RunningTarget p = new RunningTarget(Spawn.spawn(argv, null), program, output);
    p.awaitRunning();
    return p;
  }

  private void awaitRunning() {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    Path proc = Path.of("/proc", "" + pid);
    while (System.nanoTime() < deadline) {
      try {
        String exe = Files.readSymbolicLink(proc.resolve("exe")).toString();
        if (exe.equals(program.toString()) && (state() == 'S' || !output().isEmpty())) return;
      } catch (IOException e) {
        // not exec'd yet
      }
      sleep(5);
    }
    close();
    throw new AssertionError(program + " did not start");
  }

  public int pid() {
    return pid;
  }

  /** The kernel's state letter of the main thread; 'X' when gone. */
  public char state() {
    try {
      String stat = Files.readString(Path.of("/proc", "" + pid, "stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2);
    } catch (IOException e) {
      return 'X';
    }
  }

  public String output() {
    try {
      return Files.readString(output);
    } catch (IOException e) {
      return "";
    }
  }

  /** How many bytes of output there are so far. */
  public long size() {
    try {
      return Files.size(output);
    } catch (IOException e) {
      return 0;
    }
  }

  /** The output from byte {@code offset} on, at most 1 MiB of it (a patched loop can print fast). */
  public String since(long offset) {
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(output.toFile(), "r")) {
      long length = Math.min(f.length() - offset, 1 << 20);
      if (length <= 0) return "";
      byte[] b = new byte[(int) length];
      f.seek(offset);
      f.readFully(b);
      return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  /** Waits up to {@code timeout} for the output from {@code offset} on to satisfy {@code condition}. */
  public String awaitSince(long offset, Predicate<String> condition, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String out = since(offset);
    while (!condition.test(out)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for the output of " + program.getFileName()
            + " (pid " + pid + ") after byte " + offset + "; it is:\n" + tail(out));
      }
      sleep(10);
      out = since(offset);
    }
    return out;
  }

  /** Waits up to {@code timeout} for the output to satisfy {@code condition}; returns it. */
  public String awaitOutput(Predicate<String> condition, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String out = output();
    while (!condition.test(out)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for the output of " + program.getFileName()
            + " (pid " + pid + "); it is:\n" + tail(out));
      }
      sleep(10);
      out = output();
    }
    return out;
  }

  /** Alive and not a zombie. */
  public boolean isAlive() {
    char s = state();
    return !reaped && s != 'X' && s != 'Z';
  }

  /** The memory map, for comparisons. */
  public String maps() {
    try {
      return Files.readString(Path.of("/proc", "" + pid, "maps"));
    } catch (IOException e) {
      return "";
    }
  }

  @Override
  public void close() {
    if (reaped) return;
    try {
      Libc.kill(pid, Signals.SIGKILL);
    } catch (RuntimeException e) {
      // already gone
    }
    try {
      Libc.waitpid(pid, new int[1], WaitFlags.__WALL);
    } catch (RuntimeException e) {
      // reaped elsewhere
    }
    reaped = true;
  }

  public static String tail(String text) {
    return text.length() > 2000 ? "..." + text.substring(text.length() - 2000) : text;
  }

  public static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
