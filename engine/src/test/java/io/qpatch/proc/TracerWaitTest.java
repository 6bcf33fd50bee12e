package io.qpatch.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.sys.Libc;
import io.qpatch.sys.Signals;
import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tracer's blocking wait ({@link Tracer#awaitStatus}): it ends at its deadline when no
 * awaited status comes, and what it collects for others meanwhile reaches them (here: a
 * signal for another target is passed on while the wait blocks the tracer thread).
 */
class TracerWaitTest {
  @TempDir Path tmp;

  @Test
  void ends_at_its_deadline_and_passes_on_what_it_collects_for_other_targets() {
    Path exe = Fixtures.c("pauser", HoldTest.PAUSER, "-O1", "-pthread");
    try (LiveProcess a = LiveProcess.start(tmp.resolve("a.txt"), exe.toString());
        LiveProcess b = LiveProcess.start(tmp.resolve("b.txt"), exe.toString())) {
      a.awaitOutput(s -> s.contains("counter 0x"), Duration.ofSeconds(10));
      b.awaitOutput(s -> s.contains("counter 0x"), Duration.ofSeconds(10));
      try (Target ta = Target.attach(a.pid()); Target tb = Target.attach(b.pid())) {
        Tracer tracer = Tracer.get();
        long[] waited = new long[1];
        boolean passedOn = tracer.call(() -> {
          Libc.tgkill(b.pid(), b.pid(), Signals.SIGUSR1); // the main thread, in pause()
          long start = System.nanoTime();
          int tid = tracer.awaitStatus(start + 300_000_000L, new int[1], t -> false);
          waited[0] = System.nanoTime() - start;
          assertEquals(0, tid);
          // still inside this tracer task: only the wait can have passed the signal on
          long until = System.nanoTime() + 2_000_000_000L;
          while (!b.output().contains("usr1=1") && System.nanoTime() < until) LiveProcess.sleep(5);
          return b.output().contains("usr1=1");
        });
        assertTrue(waited[0] >= 300_000_000L, "returned before its deadline: " + waited[0] + " ns");
        assertTrue(passedOn, "the other target's signal was not passed on: " + b.output());
        assertTrue(ta.isAlive() && tb.isAlive());
      }
    }
  }
}
