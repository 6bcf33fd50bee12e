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

  /** Calls hot() as fast as it can, printing "tick N" and napping 1 ms every 100 calls. */
  static final String SPINNER = """
      #include <stdio.h>
      #include <unistd.h>
      __attribute__((noinline)) long hot(long i) { __asm__ volatile(""); return i + 1; }
      int main(void) {
        for (long n = 0;;) {
          n = hot(n);
          if (n % 100 == 0) {
            printf("tick %ld\\n", n / 100);
            fflush(stdout);
            usleep(1000);
          }
        }
      }
      """;

  private static Selection only(String regex) {
    return new Selection(Optional.of(Pattern.compile(regex)), Optional.empty(), false, true);
  }

  @Test
  void a_full_ring_makes_the_program_wait_for_a_slow_reader_and_no_call_is_lost() {
    int calls = 20000;
    AtomicLong seen = new AtomicLong();
    HitConsumer slow = (site, tid, time, regs) -> {
      if (seen.getAndIncrement() == 0) LiveProcess.sleep(100); // the ring fills meanwhile
    };
    BackendStats stats = traceHot(calls, false, slow);
    assertEquals(0, stats.lost(), "the reader kept its deadline fresh: " + stats);
    assertEquals(calls, stats.hits(), "every call seen: " + stats);
    assertEquals(calls, seen.get());
  }

  @Test
  void lossy_mode_counts_every_event_a_full_ring_drops_and_the_program_is_unharmed() {
    int calls = 20000;
    AtomicLong seen = new AtomicLong();
    HitConsumer slow = (site, tid, time, regs) -> {
      if (seen.getAndIncrement() == 0) LiveProcess.sleep(500); // the ring fills meanwhile
    };
    BackendStats stats = traceHot(calls, true, slow);
    assertTrue(stats.lost() > 0, "the 32-record ring overflowed: " + stats);
    assertEquals(calls, stats.hits() + stats.lost(), "each call delivered or counted lost: " + stats);
    assertEquals(stats.hits(), seen.get());
  }

  /**
   * A reader stalled longer than the deadline (a blocked sink, say) does not hold the
   * program: past it, a full ring drops, and every call is still delivered or counted.
   */
  @Test
  void a_reader_stalled_past_its_deadline_lets_the_program_run_on_losing_events() {
    int calls = 20000;
    AtomicLong seen = new AtomicLong();
    long stallMillis = 3 * InProcBackend.WAIT_NANOS / 1_000_000;
    HitConsumer stalled = (site, tid, time, regs) -> {
      if (seen.getAndIncrement() == 0) LiveProcess.sleep(stallMillis);
    };
    BackendStats stats = traceHot(calls, false, stalled);
    assertTrue(stats.lost() > 0, "the ring overflowed past the deadline: " + stats);
    assertEquals(calls, stats.hits() + stats.lost(), "each call delivered or counted lost: " + stats);
  }

  /** Runs HOT with {@code calls} calls under a 32-record ring until it exits. */
  private static BackendStats traceHot(int calls, boolean lossy, HitConsumer consumer) {
    Path prog = Fixtures.c("hot", HOT, "-O2");
    Target target = Target.launch(List.of(prog.toString(), Integer.toString(calls)));
    ChildProcess child = new ChildProcess(target.pid());
    ProbePlan plan = ProcessPlanner.plan(target.pid(), only("^hot$"), false);
    InProcBackend backend = new InProcBackend(target, child::alive, 32, lossy);
    assertTrue(backend.install(plan, consumer).isEmpty());
    target.detach();
    backend.run();
    backend.remove();
    assertEquals(0, child.waitExit(), "every call still ran (the program checks its sum)");
    return backend.stats();
  }

  @Test
  void removal_restores_the_entry_bytes_and_unmaps_the_ring_and_the_program_runs_on() throws Exception {
    Path prog = Fixtures.c("ticker", TICKER, "-O1");
    try (LiveProcess p = LiveProcess.start(tmp.resolve("out.txt"), prog.toString())) {
      p.awaitOutput(o -> o.contains("tick 2"), Duration.ofSeconds(10));
      ProbePlan plan = ProcessPlanner.plan(p.pid(), only("^tick$"), false);
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
   * Our JVM (a second one here, reading slowly: a 32-record ring that stays full) killed
   * with SIGKILL mid-trace: nothing undoes the probes, the program waits at most until
   * the deadline the dead reader last set, then the trampolines count lost events into a
   * ring nobody reads, and the program runs on.
   */
  @Test
  void the_program_runs_on_after_the_tracing_jvm_is_killed_with_the_ring_full() throws Exception {
    Path prog = Fixtures.c("spinner", SPINNER, "-O1");
    try (LiveProcess p = LiveProcess.start(tmp.resolve("out.txt"), prog.toString())) {
      p.awaitOutput(o -> o.contains("tick 2"), Duration.ofSeconds(10));
      Path traceOut = tmp.resolve("trace.txt");
      Process jvm = tracingJvm(p.pid(), "^hot$", traceOut);
      long lostWhileRead;
      try {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (hitLines(traceOut) < 200 && System.nanoTime() < deadline) {
          assertTrue(jvm.isAlive(), "the tracing JVM died: " + Files.readString(tmp.resolve("trace.err")));
          LiveProcess.sleep(50);
        }
        assertTrue(hitLines(traceOut) >= 200, "traced before the kill");
        lostWhileRead = ringLost(p.pid());
      } finally {
        jvm.destroyForcibly(); // SIGKILL
        jvm.waitFor();
      }
      assertEquals(0, lostWhileRead, "the full ring made the program wait while the reader lived");
      assertTrue(maps(p.pid()).contains(InProcArea.RING_NAME), "left in place");
      int ticks = count(p.output());
      p.awaitOutput(o -> count(o) >= ticks + 10, Duration.ofSeconds(10));
      assertTrue(p.isAlive());
      assertTrue(ringLost(p.pid()) > 0, "past the deadline the trampolines drop");
    }
  }

  private static long hitLines(Path out) throws Exception {
    return Files.readString(out).lines().filter(l -> l.startsWith("hit ")).count();
  }

  /** The ring header's lost counter, read from the target's memory. */
  private static long ringLost(int pid) throws Exception {
    String line = maps(pid).lines().filter(l -> l.contains(InProcArea.RING_NAME)).findFirst().orElseThrow();
    long header = Long.parseUnsignedLong(line.substring(0, line.indexOf('-')), 16);
    byte[] b = readMemory(pid, header + InProcRing.offset(InProcRing.HEADER, "lost"), 8);
    return java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
  }

  /** ProcessBuilder is fine here: the child JVM, not this one, ptraces the program. */
  private Process tracingJvm(int pid, String regex, Path out) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
        "-cp", System.getProperty("java.class.path"), InProcTraceMain.class.getName(),
        Integer.toString(pid), regex, "32", "1"));
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
