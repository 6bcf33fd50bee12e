package io.qpatch.cli;

import io.qpatch.sys.Libc;
import io.qpatch.sys.Signals;
import io.qpatch.sys.Spawn;
import io.qpatch.sys.WaitFlags;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** C programs for the gotrace tests, compiled with gcc into a test's directory. */
final class TraceTargets {
  private TraceTargets() {}

  /** Calls add6(1..5, 6+i) three times, prints the sum, exits 7. */
  static final String ADD6 = """
      #include <stdio.h>
      __attribute__((noinline)) long add6(long a, long b, long c, long d, long e, long f) {
        return a + b + c + d + e + f;
      }
      int main(void) {
        long s = 0;
        for (int i = 0; i < 3; i++) s += add6(1, 2, 3, 4, 5, 6 + i);
        printf("%ld\\n", s);
        return 7;
      }
      """;

  /** Prints "tick N" every 50 ms forever, calling tick(n) each time. */
  static final String TICKER = """
      #include <stdio.h>
      #include <unistd.h>
      __attribute__((noinline)) int tick(int n) { return n + 1; }
      int main(void) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        for (int n = 0;; n = tick(n)) { printf("tick %d\\n", n); usleep(50000); }
      }
      """;

  /** Calls tick(n) 30 times, 50 ms apart, then exits 5. */
  static final String COUNTDOWN = """
      #include <unistd.h>
      __attribute__((noinline)) int tick(int n) { return n + 1; }
      int main(void) {
        int n = 0;
        while (n < 30) { n = tick(n); usleep(50000); }
        return 5;
      }
      """;

  static Path compile(Path dir, String name, String source, String... flags) throws IOException, InterruptedException {
    Prerequisites.require("gcc", "apt-get install gcc");
    Path src = dir.resolve(name + ".c");
    Path out = dir.resolve(name);
    Files.writeString(src, source);
    java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("gcc", "-O1", "-g"));
    cmd.addAll(java.util.List.of(flags));
    cmd.addAll(java.util.List.of("-o", out.toString(), src.toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new AssertionError("gcc: " + log);
    return out;
  }

  /**
   * A running program with its output in a file, started with posix_spawn (a
   * ProcessBuilder child's reaper would steal ptrace stops). close() kills and reaps it.
   */
  record Running(int pid, Path output) implements AutoCloseable {
    static Running start(Path program, Path output) {
      int pid = Spawn.spawn(List.of("/bin/sh", "-c", "exec \"$0\" > \"$1\" 2>&1", program.toString(),
          output.toString()), null);
      return new Running(pid, output);
    }

    String text() {
      try {
        return Files.exists(output) ? Files.readString(output) : "";
      } catch (IOException e) {
        return "";
      }
    }

    int ticks() {
      return (int) text().lines().filter(l -> l.startsWith("tick ")).count();
    }

    void awaitTicks(int n) throws InterruptedException {
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (ticks() < n) {
        if (System.nanoTime() > deadline) throw new AssertionError("no " + n + " ticks: " + text());
        Thread.sleep(20);
      }
    }

    boolean alive() {
      int[] status = new int[1];
      return Libc.waitpid(pid, status, WaitFlags.WNOHANG) == 0;
    }

    @Override
    public void close() {
      try {
        Libc.kill(pid, Signals.SIGKILL);
        Libc.waitpid(pid, new int[1], 0);
      } catch (RuntimeException e) {
        // already gone
      }
    }
  }
}
