package io.qpatch.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.sys.Signals;
import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The blocking waitpid loop for tracing, and the stop handler hook. */
class BlockingEventsTest {
  @TempDir Path tmp;

  private LiveProcess counter() {
    Path exe = Fixtures.c("counter", Programs.COUNTER, "-O1", "-pthread");
    LiveProcess p = LiveProcess.start(tmp.resolve("out.txt"), exe.toString());
    p.awaitOutput(s -> s.contains("line 1\n"), Duration.ofSeconds(10));
    return p;
  }

  @Test
  void calls_from_other_threads_wake_the_loop_and_a_processbuilder_child_keeps_its_status()
      throws Exception {
    try (LiveProcess p = counter(); Target t = Target.attach(p.pid())) {
      AtomicBoolean done = new AtomicBoolean();
      CompletableFuture<Void> loop = CompletableFuture.runAsync(() -> t.serveEvents(done::get));
      Thread.sleep(100);
      assertFalse(loop.isDone(), "the loop blocks while the target runs");
      assertEquals(5, t.threadIds().size(), "a call from another thread runs between events");
      Process child = new ProcessBuilder("/bin/sh", "-c", "exit 5").start();
      assertTrue(child.waitFor(10, TimeUnit.SECONDS));
      assertEquals(5, child.exitValue(), "waitpid(-1, __WNOTHREAD) left the JDK's child alone");
      done.set(true);
      t.wakeEvents();
      loop.get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void a_signal_claimed_by_the_stop_handler_never_reaches_the_target() throws Exception {
    try (LiveProcess p = counter(); Target t = Target.attach(p.pid())) {
      AtomicInteger claimed = new AtomicInteger();
      t.setStopHandler((tid, sig) -> sig == Signals.SIGUSR1 && claimed.incrementAndGet() > 0);
      AtomicBoolean done = new AtomicBoolean();
      CompletableFuture<Void> loop = CompletableFuture.runAsync(() -> t.serveEvents(done::get));
      p.signal(Signals.SIGUSR1);
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (claimed.get() == 0 && System.nanoTime() < deadline) Thread.sleep(10);
      done.set(true);
      t.wakeEvents();
      loop.get(10, TimeUnit.SECONDS);
      t.setStopHandler(null);
      t.detach();
      assertEquals(1, claimed.get());
      p.signal(Signals.SIGTERM);
      String out = p.awaitOutput(s -> s.contains("done "), Duration.ofSeconds(10));
      assertTrue(out.contains("done usr1=0 "), out);
    }
  }
}
