package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.sys.Libc;
import io.qpatch.sys.Signals;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ./gotrace as a user runs it: exit statuses and Ctrl-C. Runs after package. */
class GotraceLauncherIT {
  private static final String GOTRACE = Prerequisites.repo().resolve("gotrace").toString();

  @TempDir Path tmp;

  @Test
  void a_launched_programs_exit_status_is_gotraces() throws Exception {
    Path prog = TraceTargets.compile(tmp, "add6", TraceTargets.ADD6);
    Process p = new ProcessBuilder(GOTRACE, "-f", "^add6$", prog.toString()).start();
    CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p));
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(7, p.exitValue());
    String text = out.join();
    assertTrue(text.contains("66\n") && text.contains("] add6 <-( 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, ... )"), text);
  }

  @Test
  void ctrl_c_while_attached_removes_the_probes_and_leaves_the_program_running() throws Exception {
    Path prog = TraceTargets.compile(tmp, "ticker", TraceTargets.TICKER);
    try (TraceTargets.Running target = TraceTargets.Running.start(prog, tmp.resolve("ticks.txt"))) {
      target.awaitTicks(2);
      Process p = new ProcessBuilder(GOTRACE, "-p", Integer.toString(target.pid()), "-f", "^tick$")
          .redirectOutput(tmp.resolve("trace.txt").toFile()).start();
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (count(tmp.resolve("trace.txt")) < 3 && System.nanoTime() < deadline) Thread.sleep(50);
      assertTrue(count(tmp.resolve("trace.txt")) >= 3, "traced calls before Ctrl-C");
      Libc.kill((int) p.pid(), Signals.SIGINT);
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "gotrace ends on Ctrl-C");
      assertEquals(0, p.exitValue(), new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
      int seen = target.ticks();
      target.awaitTicks(seen + 4);
      assertTrue(target.alive(), "the program runs on");
    }
  }

  private static long count(Path trace) throws IOException {
    if (!java.nio.file.Files.exists(trace)) return 0;
    return java.nio.file.Files.readAllLines(trace).stream().filter(l -> l.contains("] tick <-( ")).count();
  }

  private static String read(Process p) {
    try {
      return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }
}
