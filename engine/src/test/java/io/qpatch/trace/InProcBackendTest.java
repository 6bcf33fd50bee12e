package io.qpatch.trace;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.proc.Target;
import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InProcBackendTest {
  @TempDir Path tmp;

  /** Calls hot() N times as fast as it can, prints the sum (N when every call ran). */
  static final String HOT = """
      #include <stdio.h>
      #include <stdlib.h>
      __attribute__((noinline)) long hot(long i) { __asm__ volatile(""); return i + 1; }
      int main(int argc, char **argv) {
        long n = atol(argv[1]), s = 0;
        for (long i = 0; i < n; i++) s = hot(s);
        printf("sum %ld\\n", s);
        return s == n ? 0 : 1;
      }
      """;

  /** Prints "tick N" every 20 ms, each through a call of tick(). */
  static final String TICKER = """
      #include <stdio.h>
      #include <unistd.h>
      __attribute__((noinline)) long tick(long n) { return n + 1; }
      int main(void) {
        for (long n = 0;;) {
          n = tick(n);
          printf("tick %ld\\n", n);
          fflush(stdout);
          usleep(20000);
        }
      }
      """;

  private static Selection only(String regex) {
    return new Selection(Optional.of(Pattern.compile(regex)), Optional.empty(), false, true);
  }

  @Test
  void a_full_ring_counts_every_event_it_drops_and_the_program_is_unharmed() {
    Path prog = Fixtures.c("hot", HOT, "-O2");
    int calls = 20000;
    Target target = Target.launch(List.of(prog.toString(), Integer.toString(calls)));
    ChildProcess child = new ChildProcess(target.pid());
    ProbePlan plan = TraceSession.plan(target.pid(), only("^hot$"), false);
    InProcBackend backend = new InProcBackend(target, child::alive, 32);
    AtomicLong seen = new AtomicLong();
    HitConsumer slow = (site, tid, time, regs) -> {
      if (seen.getAndIncrement() == 0) LiveProcess.sleep(500); // the ring fills meanwhile
    };
    assertTrue(backend.install(plan, slow).isEmpty());
    target.detach();
    backend.run();
    backend.remove();
    assertEquals(0, child.waitExit(), "every call still ran (the program checks its sum)");
    BackendStats stats = backend.stats();
    assertTrue(stats.lost() > 0, "the 32-record ring overflowed: " + stats);
    assertEquals(calls, stats.hits() + stats.lost(), "each call delivered or counted lost: " + stats);
    assertEquals(stats.hits(), seen.get());
  }

  @Test
  void removal_restores_the_entry_bytes_and_unmaps_the_ring_and_the_program_runs_on() throws Exception {
    Path prog = Fixtures.c("ticker", TICKER, "-O1");
    try (LiveProcess p = LiveProcess.start(tmp.resolve("out.txt"), prog.toString())) {
      p.awaitOutput(o -> o.contains("tick 2"), Duration.ofSeconds(10));
      ProbePlan plan = TraceSession.plan(p.pid(), only("^tick$"), false);
      long entry = plan.functions().getFirst().entry();
      byte[] original = readMemory(p.pid(), entry, 5);
      CollectingSink sink = new CollectingSink();
      Target target = Target.attach(p.pid());
      InProcBackend backend = new InProcBackend(target, p::isAlive);
      assertTrue(backend.install(plan, hitsTo(sink)).isEmpty());
      target.detach();
      assertTrue(maps(p.pid()).contains(InProcArea.RING_NAME));
      assertFalse(java.util.Arrays.equals(original, readMemory(p.pid(), entry, 5)), "the jmp is in place");
      Thread stopper = Thread.ofPlatform().start(() -> {
        LiveProcess.sleep(300);
        backend.requestStop();
      });
      backend.run();
      stopper.join();
      backend.remove();
      assertTrue(backend.stats().hits() >= 5, backend.stats().toString());
      assertArrayEquals(original, readMemory(p.pid(), entry, 5));
      assertFalse(maps(p.pid()).contains(InProcArea.RING_NAME), maps(p.pid()));
      int ticks = count(p.output());
      p.awaitOutput(o -> count(o) >= ticks + 5, Duration.ofSeconds(10));
      assertTrue(p.isAlive());
    }
  }

  /**
   * Our JVM (a second one here) killed with SIGKILL mid-trace: nothing undoes the probes,
   * the trampolines keep recording into a ring nobody reads, and the program runs on.
   */
  @Test
  void the_program_runs_on_after_the_tracing_jvm_is_killed() throws Exception {
    Path prog = Fixtures.c("ticker", TICKER, "-O1");
    try (LiveProcess p = LiveProcess.start(tmp.resolve("out.txt"), prog.toString())) {
      p.awaitOutput(o -> o.contains("tick 2"), Duration.ofSeconds(10));
      Path traceOut = tmp.resolve("trace.txt");
      Process jvm = tracingJvm(p.pid(), "^tick$", traceOut);
      try {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(traceOut).contains("] tick <-(") && System.nanoTime() < deadline) {
          assertTrue(jvm.isAlive(), "the tracing JVM died: " + Files.readString(tmp.resolve("trace.err")));
          LiveProcess.sleep(50);
        }
        assertTrue(Files.readString(traceOut).contains("] tick <-("), "traced before the kill");
      } finally {
        jvm.destroyForcibly(); // SIGKILL
        jvm.waitFor();
      }
      assertTrue(maps(p.pid()).contains(InProcArea.RING_NAME), "left in place");
      int ticks = count(p.output());
      p.awaitOutput(o -> count(o) >= ticks + 10, Duration.ofSeconds(10));
      assertTrue(p.isAlive());
    }
  }

  /** ProcessBuilder is fine here: the child JVM, not this one, ptraces the program. */
  private Process tracingJvm(int pid, String regex, Path out) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
        "-cp", System.getProperty("java.class.path"), InProcTraceMain.class.getName(),
        Integer.toString(pid), regex));
    Files.writeString(out, "");
    return new ProcessBuilder(cmd).redirectOutput(out.toFile())
        .redirectError(tmp.resolve("trace.err").toFile()).start();
  }

  private static HitConsumer hitsTo(CollectingSink sink) {
    return (site, tid, time, regs) -> sink.accept(new TraceEvent(site.kind(), tid, TraceEvent.NO_GOID, time,
        site.function(), new long[] {regs[SampleRegs.DI]}, -1, null));
  }

  private static byte[] readMemory(int pid, long address, int n) throws Exception {
    try (var ch = java.nio.channels.FileChannel.open(Path.of("/proc", Integer.toString(pid), "mem"))) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(n);
      ch.read(b, address);
      return b.array();
    }
  }

  private static String maps(int pid) throws Exception {
    return Files.readString(Path.of("/proc", Integer.toString(pid), "maps"));
  }

  private static int count(String out) {
    return (int) out.lines().filter(l -> l.startsWith("tick ")).count();
  }
}
