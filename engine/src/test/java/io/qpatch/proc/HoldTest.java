package io.qpatch.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.sys.Libc;
import io.qpatch.sys.Registers;
import io.qpatch.sys.Signals;
import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One thread held for remote work while the others run: {@link Target#whileOneHeld}. */
class HoldTest {
  private static final int PROT_READ = 1, PROT_WRITE = 2, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20;

  /**
   * The main thread waits in pause() and reports each return (a handler ran); a second
   * thread counts as fast as it can, napping now and then so a small machine keeps up.
   */
  static final String PAUSER = """
      #include <pthread.h>
      #include <signal.h>
      #include <stdio.h>
      #include <unistd.h>
      static volatile long counter;
      static volatile sig_atomic_t usr1;
      static void on_usr1(int s) { (void)s; usr1++; }
      static void *count(void *arg) {
        for (;;) if (++counter % 4096 == 0) usleep(100);
        return arg;
      }
      int main(void) {
        setvbuf(stdout, 0, _IOLBF, 0);
        signal(SIGUSR1, on_usr1);
        pthread_t t;
        pthread_create(&t, 0, count, 0);
        printf("counter %p\\n", (void *)&counter);
        for (;;) { pause(); printf("pause returned, usr1=%d\\n", (int)usr1); }
      }
      """;

  @TempDir Path tmp;

  private LiveProcess pauser() {
    Path exe = Fixtures.c("pauser", PAUSER, "-O1", "-pthread");
    LiveProcess p = LiveProcess.start(tmp.resolve("out.txt"), exe.toString());
    p.awaitOutput(s -> s.contains("counter 0x"), Duration.ofSeconds(10));
    return p;
  }

  private static long counterAddress(LiveProcess p) {
    String out = p.output();
    int at = out.indexOf("counter 0x") + "counter 0x".length();
    return Long.parseUnsignedLong(out.substring(at, out.indexOf('\n', at)), 16);
  }

  @Test
  void a_thread_blocked_in_pause_runs_the_remote_calls_while_the_other_keeps_counting() {
    try (LiveProcess p = pauser(); Target t = Target.attach(p.pid())) {
      long counter = counterAddress(p);
      Registers before = t.whileHeld(p.pid(), () -> t.registers(p.pid())).orElseThrow();
      long[] seen = new long[2];
      int held = t.whileOneHeld(() -> {
        seen[0] = t.readLong(counter);
        long page = t.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        t.write(page, new byte[] {42});
        assertEquals(42, t.read(page, 1)[0]);
        t.munmap(page, 4096);
        seen[1] = awaitChange(t, counter, seen[0]);
        return t.heldThread();
      });
      assertEquals(p.pid(), held, "the thread blocked in pause() is the one held");
      assertTrue(seen[1] != seen[0], "the counting thread ran during the hold: " + seen[0] + " -> " + seen[1]);
      assertEquals(before, t.whileHeld(p.pid(), () -> t.registers(p.pid())).orElseThrow());
      assertEquals(-1, t.heldThread());
      t.detach();
      LiveProcess.sleep(100);
      assertFalse(p.output().contains("pause returned"), "pause() went on as if never interrupted");
    }
  }

  @Test
  void a_signal_sent_to_the_held_thread_is_delivered_once_it_is_released() {
    try (LiveProcess p = pauser(); Target t = Target.attach(p.pid())) {
      t.whileOneHeld(() -> {
        Libc.tgkill(p.pid(), p.pid(), Signals.SIGUSR1);
        LiveProcess.sleep(50);
        return null;
      });
      p.awaitOutput(s -> s.contains("pause returned, usr1=1\n"), Duration.ofSeconds(5));
    }
  }

  @Test
  void held_threads_are_ranked_by_how_little_a_hold_disturbs_them() {
    String sleeping = "123 (prog) S 1 ...";
    assertEquals(3, HoldChoice.rank(sleeping, "34 0x0 0x0 0x0 0x0 0x0 0x0 0x7ffc 0x7f00"), "pause");
    assertEquals(3, HoldChoice.rank(sleeping, "202 0x7f 0x80 0x2 0x0 0x0 0x0 0x7ffc 0x7f00"), "futex");
    assertEquals(2, HoldChoice.rank(sleeping, "230 0x1 0x0 0x7ffc 0x0 0x0 0x0 0x7ffc 0x7f00"), "clock_nanosleep");
    assertEquals(1, HoldChoice.rank(sleeping, "232 0x3 0x7ffc 0x8 0xffffffff 0x0 0x0 0x7ffc 0x7f00"), "epoll_wait");
    assertEquals(0, HoldChoice.rank(sleeping, "-1 0x7ffc 0x7f00"), "asleep outside a system call");
    assertEquals(0, HoldChoice.rank("123 (a) b) R 1", "running"), "running, a ')' in its name");
    assertEquals(0, HoldChoice.rank("", ""), "exited");
  }

  /**
   * Through the hold scripts and the patch engine make: while the main thread waits in
   * pause(), it is the one held, not the busy one, hold after hold. (Each hold makes it look
   * running until it is back in pause(); the choice gives it 2 ms for that, which a loaded
   * machine may not: then the busy thread is held, as is allowed. So the test lets it get
   * back before each hold.)
   */
  @Test
  void the_choice_prefers_the_thread_waiting_for_an_event_over_a_busy_one() {
    try (LiveProcess p = pauser(); Target t = Target.attach(p.pid())) {
      assertEquals(2, t.threadIds().size());
      for (int i = 0; i < 20; i++) {
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (HoldChoice.rankOf(p.pid(), p.pid()) != 3 && System.nanoTime() < deadline) LiveProcess.sleep(1);
        assertEquals(p.pid(), (int) t.whileOneHeld(t::heldThread), "hold " + i);
      }
    }
  }

  /** The value at {@code address} once it differs from {@code from}, waiting up to 2 s. */
  private static long awaitChange(Target t, long address, long from) {
    long deadline = System.nanoTime() + 2_000_000_000L;
    long now;
    while ((now = t.readLong(address)) == from && System.nanoTime() < deadline) LiveProcess.sleep(1);
    return now;
  }
}
