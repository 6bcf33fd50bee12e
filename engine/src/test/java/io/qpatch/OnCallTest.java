package io.qpatch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.error.RefusedException;
import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import io.qpatch.trace.Summary;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scripted breakpoints ({@link TargetProcess#onCall}) and facade traces on real processes:
 * arguments, stubs, returns matched through recursion and threads, failing callbacks, and
 * bytes restored.
 */
class OnCallTest {
  /**
   * square's entry is a register move (emulated), add1's an lea (run out of line); fib
   * recurses; with an argument, worker threads call square too.
   */
  private static final String TARGET =
      """
      #include <pthread.h>
      #include <stdio.h>
      #include <stdlib.h>
      #include <unistd.h>
      __attribute__((noipa)) long square(long x) { return x * x; }
      __attribute__((noipa)) long add1(long x) { return x + 1; }
      __attribute__((noipa)) long fib(long n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
      __attribute__((noipa)) long label(const char *s) { return s[0]; }
      static void *worker(void *arg) {
        for (long i = 0;; i++) {
          if (square((long) arg * 1000 + i % 1000) < 0) abort();
          usleep(500);
        }
      }
      int main(int argc, char **argv) {
        setvbuf(stdout, 0, _IOLBF, 0);
        for (long t = 1; argc > 1 && t <= atoi(argv[1]); t++) {
          pthread_t th;
          pthread_create(&th, 0, worker, (void *) t);
        }
        printf("ready\\n");
        for (long i = 0;; i++) {
          printf("square(%ld)=%ld add1=%ld fib=%ld label=%ld\\n", i, square(i), add1(i), fib(6),
                 label("hello"));
          usleep(5000);
        }
      }
      """;

  @TempDir Path tmp;

  private LiveProcess start(String... args) {
    Path exe = Fixtures.c("oncall-target", TARGET, "-O1", "-pthread");
    List<String> argv = new ArrayList<>(List.of(exe.toString()));
    argv.addAll(List.of(args));
    LiveProcess p = LiveProcess.start(tmp.resolve("out"), argv.toArray(String[]::new));
    p.awaitOutput(o -> o.contains("ready"), Duration.ofSeconds(5));
    return p;
  }

  /** The target's output printed after now, once it has {@code lines} more lines. */
  private static String nextLines(LiveProcess p, int lines) {
    int from = p.output().length();
    p.awaitOutput(o -> o.substring(from).split("\n").length > lines, Duration.ofSeconds(5));
    return p.output().substring(from);
  }

  @Test
  void callbackSeesArgumentsAndStringsAndCountsCalls() {
    try (LiveProcess live = start(); TargetProcess p = Qpatch.attach(live.pid())) {
      List<Long> args = new ArrayList<>();
      List<String> labels = new ArrayList<>();
      OnCall sq = p.onCall("square", c -> args.add(c.arg(0)));
      OnCall lb = p.onCall("label", c -> labels.add(c.readString(c.arg(0))));
      assertTrue(p.run(0.3));
      sq.remove();
      lb.remove();
      assertTrue(sq.count() >= 5, sq.toString());
      assertEquals(sq.count(), args.size());
      for (int i = 1; i < args.size(); i++) assertEquals(args.get(i - 1) + 1, args.get(i));
      assertTrue(labels.size() >= 5 && labels.stream().allMatch("hello"::equals), labels.toString());
      assertFalse(sq.isActive());
    }
  }

  @Test
  void returnValueStubsTheFunctionAndRemoveRestoresIt() {
    try (LiveProcess live = start(); TargetProcess p = Qpatch.attach(live.pid())) {
      byte[] before = p.read("add1", 16);
      int from = live.output().length();
      OnCall h = p.onCall("add1", c -> c.returnValue(-7));
      p.run(0.2);
      h.remove();
      assertTrue(live.output().substring(from).contains("add1=-7 "), live.output().substring(from));
      assertArrayEquals(before, p.read("add1", 16));
      assertFalse(nextLines(live, 3).contains("add1=-7 "));
    }
  }

  @Test
  void onReturnSeesAndChangesTheResult() {
    try (LiveProcess live = start(); TargetProcess p = Qpatch.attach(live.pid())) {
      List<long[]> seen = new ArrayList<>();
      OnCall h = p.onCall("square", c -> c.onReturn(r -> {
        seen.add(new long[] {r.call().arg(0), r.value()});
        r.returnValue(r.value() + 1_000_000);
      }));
      int from = live.output().length();
      p.run(0.2);
      h.remove();
      String out = live.output().substring(from);
      assertTrue(out.matches("(?s).*square\\((\\d+)\\)=1\\d{6}\\d* .*"), out);
      assertFalse(seen.isEmpty());
      for (long[] s : seen) assertEquals(s[0] * s[0], s[1]);
    }
  }

  @Test
  void callbacksRunOnlyWhileTheScriptWaitsInRun() {
    try (LiveProcess live = start(); TargetProcess p = Qpatch.attach(live.pid())) {
      List<Long> seen = new ArrayList<>();
      OnCall h = p.onCall("square", c -> seen.add(c.arg(0)));
      nextLines(live, 3);
      assertEquals(0, h.count());
      assertTrue(h.missed() >= 3, h.toString());
      p.run(0.1);
      h.remove();
      assertTrue(h.count() >= 3 && seen.size() == h.count(), h.toString());
    }
  }

  /**
   * What a breakpoint on square with the callback {@code callbackFor(process)}, run for
   * {@code seconds}, wrote on stderr; {@code check} sees the handle once removed.
   */
  private String stderrOfSquareCallback(
      double seconds, Function<TargetProcess, Consumer<Call>> callbackFor, Consumer<OnCall> check) {
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (LiveProcess live = start(); TargetProcess p = Qpatch.attach(live.pid())) {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      OnCall h = p.onCall("square", callbackFor.apply(p));
      p.run(seconds);
      h.remove();
      check.accept(h);
    } finally {
      System.setErr(saved);
    }
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void processMethodsThatNeedTheTracerAreRefusedInsideACallback() {
    String err = stderrOfSquareCallback(0.1, p -> c -> p.threads(),
        h -> assertTrue(h.count() > 0 && h.failures() == h.count(), h.toString()));
    assertTrue(err.contains("callback failed: java.lang.IllegalStateException: threads() cannot be used"
        + " inside a callback"), err);
  }

  @Test
  void recursiveReturnsArePairedWithTheirOwnCalls() {
    try (LiveProcess live = start(); TargetProcess p = Qpatch.attach(live.pid())) {
      List<long[]> pairs = new ArrayList<>();
      OnCall h = p.onCall("fib", c -> c.onReturn(r -> pairs.add(new long[] {r.call().arg(0), r.value()})));
      p.run(0.2);
      h.remove();
      long[] fib = {0, 1, 1, 2, 3, 5, 8};
      assertTrue(pairs.size() >= 25, "fib(6) makes 25 calls: " + pairs.size());
      for (long[] pair : pairs) assertEquals(fib[(int) pair[0]], pair[1], "fib(" + pair[0] + ")");
      assertTrue(h.count() - pairs.size() < 25, h.count() + " calls, " + pairs.size() + " returns");
    }
  }

  @Test
  void returnsOfManyThreadsAtOneAddressAreAllSeen() {
    try (LiveProcess live = start("4"); TargetProcess p = Qpatch.attach(live.pid())) {
      Map<Integer, AtomicLong> wrong = new ConcurrentHashMap<>();
      AtomicLong returns = new AtomicLong();
      OnCall h = p.onCall("square", c -> c.onReturn(r -> {
        returns.incrementAndGet();
        if (r.value() != r.call().arg(0) * r.call().arg(0)) {
          wrong.computeIfAbsent(r.tid(), t -> new AtomicLong()).incrementAndGet();
        }
      }));
      p.run(0.5);
      h.remove();
      assertTrue(h.count() > 20, h.toString());
      assertTrue(h.count() - returns.get() <= 5, h.count() + " calls, " + returns.get() + " returns");
      assertEquals(Map.of(), wrong);
      assertTrue(live.isAlive());
    }
  }

  @Test
  void failingCallbackIsReportedOnceAndKeepsCounting() {
    String text = stderrOfSquareCallback(0.2, p -> c -> {
      throw new IllegalStateException("boom " + c.arg(0));
    }, h -> assertTrue(h.count() >= 5 && h.failures() == h.count(), h.toString()));
    assertTrue(text.startsWith("qpatch: onCall(square) callback failed: java.lang.IllegalStateException: boom"), text);
    assertEquals(2, text.lines().count(), text);
    assertTrue(text.lines().toList().get(1).matches("qpatch: onCall\\(square\\): \\d+ more callback failures"), text);
  }

  /**
   * A child forked while a breakpoint is planted has a copy of the int3 and would die of
   * SIGTRAP at its first call of the function; fork() and vfork() children both live, and
   * so do they while the script is not in run() (the idle tracer answers them too).
   */
  @Test
  void forkedChildrenSurviveBreakpointsInsideAndOutsideRun() {
    String forker = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <unistd.h>
        #include <sys/wait.h>
        __attribute__((noipa)) long square(long x) { return x * x; }
        int main(void) {
          setvbuf(stdout, 0, _IOLBF, 0);
          printf("ready\\n");
          for (long i = 0;; i++) {
            int st;
            pid_t c = (i % 2) ? vfork() : fork();
            if (c == 0) _exit(square(3) == 9 ? 0 : 1);
            waitpid(c, &st, 0);
            printf("child %s %ld\\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ok" : "died", i);
            usleep(20000);
          }
        }
        """;
    Path exe = Fixtures.c("oncall-forker", forker, "-O1");
    try (LiveProcess live = LiveProcess.start(tmp.resolve("fork-out"), exe.toString())) {
      live.awaitOutput(o -> o.contains("ready"), Duration.ofSeconds(5));
      try (TargetProcess p = Qpatch.attach(live.pid())) {
        OnCall h = p.onCall("square", c -> {});
        p.run(0.3);
        String inRun = nextLines(live, 4);
        LiveProcess.sleep(200);
        String outside = nextLines(live, 4);
        h.remove();
        assertFalse(inRun.contains("died"), inRun);
        assertFalse(outside.contains("died"), outside);
        assertTrue(inRun.contains("child ok") && outside.contains("child ok"), inRun + outside);
      }
      assertFalse(nextLines(live, 3).contains("died"));
    }
  }

  @Test
  void detachTakesEveryBreakpointOut() {
    try (LiveProcess live = start("2")) {
      TargetProcess p = Qpatch.attach(live.pid());
      byte[] square = p.read("square", 16);
      byte[] add1 = p.read("add1", 16);
      p.onCall("square", c -> c.onReturn(r -> {}));
      p.onCall("add1", c -> {});
      p.run(0.1);
      p.detach();
      try (TargetProcess again = Qpatch.attach(live.pid())) {
        assertArrayEquals(square, again.read("square", 16));
        assertArrayEquals(add1, again.read("add1", 16));
      }
      nextLines(live, 3);
      assertTrue(live.isAlive());
    }
  }

  @Test
  void traceCountsCallsAndTimesThemThenLetsGo() {
    try (LiveProcess live = start(); TargetProcess p = Qpatch.attach(live.pid())) {
      AtomicLong events = new AtomicLong();
      Trace t = p.trace("^(square|fib)$").returns().onEvent(e -> events.incrementAndGet()).forSeconds(0.3);
      Summary s = t.summary();
      Summary.Row fib = s.rows().stream().filter(r -> r.function().equals("fib")).findFirst().orElseThrow();
      // A run may end inside fib(6)'s 25 calls: those have no return.
      assertTrue(fib.calls() >= 25 && fib.calls() - fib.timed() < 25, fib.toString());
      assertTrue(s.toString().startsWith("FUNCTION"), s.toString());
      assertTrue(events.get() >= fib.calls() + fib.timed(), events + " events");
      nextLines(live, 2);
      assertTrue(p.isAlive());
    }
  }

  @Test
  void traceIsRefusedWhileBreakpointsArePlanted() {
    try (LiveProcess live = start(); TargetProcess p = Qpatch.attach(live.pid())) {
      OnCall h = p.onCall("square", c -> {});
      RefusedException e = assertThrows(RefusedException.class, () -> p.trace("fib").forSeconds(0.1));
      assertTrue(e.getMessage().contains("onCall breakpoints planted"), e.getMessage());
      h.remove();
      assertTrue(p.trace("^fib$").forSeconds(0.2).summary().rows().getFirst().calls() > 0);
    }
  }
}
