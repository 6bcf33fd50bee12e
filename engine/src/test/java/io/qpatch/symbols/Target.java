package io.qpatch.symbols;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qpatch.testing.Toolchain;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A running test program: a PIE linked against two shared libraries built here, liba.so
 * and libb.so, each with a static {@code helper} and an exported {@code shared_fn}. Only
 * read through /proc (no ptrace from this JVM), so ProcessBuilder is safe to use.
 */
final class Target implements AutoCloseable {
  static final String LIB_A = """
      static __attribute__((noinline, used)) int helper(int x) { return x + 1; }
      int a_entry(int x) { return helper(x); }
      int shared_fn(void) { return 1; }
      """;
  static final String LIB_B = LIB_A.replace("x + 1", "x + 2").replace("a_entry", "b_entry")
      .replace("return 1;", "return 2;");
  static final String MAIN = """
      #include <stdio.h>
      #include <time.h>
      #include <unistd.h>
      int a_entry(int); int b_entry(int);
      int main(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        printf("ready %d\\n", a_entry(1) + b_entry(2));
        fflush(stdout);
        for (;;) sleep(1);
      }
      """;

  final Process process;

  private Target(Process process) {
    this.process = process;
  }

  /** Builds liba.so, libb.so and the program {@code name} (PIE unless pie is false). */
  static Path build(Path dir, String name, boolean pie) {
    Toolchain.compile(dir, "a.c", LIB_A, "liba.so", "-shared", "-fPIC", "-O1");
    Toolchain.compile(dir, "b.c", LIB_B, "libb.so", "-shared", "-fPIC", "-O1");
    return Toolchain.compile(dir, name + ".c", MAIN, name, pie ? "-pie" : "-no-pie",
        pie ? "-fPIE" : "-fno-pie", "-O0", "-L" + dir, "-Wl,-rpath," + dir, "-la", "-lb");
  }

  /** Starts {@code program} and waits until main has run (it prints "ready"). */
  static Target start(Path program) throws IOException {
    Process p = new ProcessBuilder(program.toString()).redirectErrorStream(true).start();
    Target t = new Target(p);
    var in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = in.readLine();
    if (line == null || !line.startsWith("ready")) {
      t.close();
      assertEquals("ready 6", line, program + " did not start");
    }
    return t;
  }

  int pid() {
    return (int) process.pid();
  }

  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
