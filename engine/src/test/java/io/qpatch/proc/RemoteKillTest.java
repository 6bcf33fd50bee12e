package io.qpatch.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * qpatch SIGKILLed in the middle of remote system calls and remote calls: a child JVM
 * ({@link RemoteOpsChild}) loops over them on a live target and is killed, first after
 * each numbered step of the first operations and of removing the control page (hidden
 * hook qpatch.test.remoteKillAt, see {@link KillPoints}), then at random moments. After
 * every kill the target must keep running with its registers, vector registers, flags,
 * signal mask and alternate signal stack intact (it checks them itself and prints BAD
 * otherwise), and the control page must be removable by the next qpatch.
 *
 * <p>Signals: in the stepped runs the child sends the target real-time signals while it
 * holds it; each must arrive exactly once. The random runs do not count signals: a signal
 * the thread takes while the world runs sits in a signal-delivery-stop until qpatch's
 * event pump passes it on (up to 2 ms), and a tracer killed in that window loses it (the
 * kernel drops it; no tracer can close that window).
 */
class RemoteKillTest {
  /** The target's only thread checks its own state each round; work() is what we call. */
  static final String TARGET =
      """
      #define _GNU_SOURCE
      #include <errno.h>
      #include <signal.h>
      #include <stdio.h>
      #include <stdlib.h>
      #include <string.h>
      #include <time.h>
      #include <unistd.h>
      #define RT 40
      static volatile long rt_count;
      static void on_rt(int s) { rt_count++; }
      long work(long x) { /* called remotely: clobbers vector registers, sleeps ~1 ms */
        __asm__ volatile("pcmpeqd %%xmm8,%%xmm8\\n pcmpeqd %%xmm9,%%xmm9\\n"
                         "pcmpeqd %%xmm10,%%xmm10" ::: "xmm8", "xmm9", "xmm10");
        usleep(1000);
        return 3 * x + 1;
      }
      /* Loop state lives in registers only (eight GPRs, a counter and flags, xmm9):
         a register not restored exactly after an interruption shows in the sums. */
      static int spin(long n) {
        long a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0, i = n;
        long lanes[2];
        __asm__ volatile(
            "pcmpeqd %%xmm8, %%xmm8\\n pxor %%xmm9, %%xmm9\\n"
            "1: add $1, %[a]\\n add $2, %[b]\\n add $3, %[c]\\n add $4, %[d]\\n"
            "add $5, %[e]\\n add $6, %[f]\\n add $7, %[g]\\n add $8, %[h]\\n"
            "psubq %%xmm8, %%xmm9\\n sub $1, %[i]\\n jnz 1b\\n movdqu %%xmm9, %[lanes]"
            : [a] "+r"(a), [b] "+r"(b), [c] "+r"(c), [d] "+r"(d), [e] "+r"(e), [f] "+r"(f),
              [g] "+r"(g), [h] "+r"(h), [i] "+r"(i), [lanes] "=m"(lanes)
            :: "cc", "xmm8", "xmm9");
        return a == n && b == 2 * n && c == 3 * n && d == 4 * n && e == 5 * n && f == 6 * n
            && g == 7 * n && h == 8 * n && lanes[0] == n && lanes[1] == n;
      }
      int main(void) {
        static char alt[1 << 16];
        stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt}, cur;
        sigaltstack(&ss, 0);
        struct sigaction sa = {.sa_handler = on_rt, .sa_flags = SA_ONSTACK};
        sigaction(RT, &sa, 0);
        setvbuf(stdout, 0, _IOLBF, 0);
        printf("work=%lx\\n", (unsigned long) work);
        for (long round = 0;; round++) {
          int bad = spin(1000000) ? 0 : 1, err = 0;
          struct timespec ts = {0, 300000};
          while (nanosleep(&ts, &ts) != 0) if (errno != EINTR) bad |= 2, err = errno;
          sigset_t mask;
          sigprocmask(SIG_BLOCK, 0, &mask);
          if (sigismember(&mask, RT)) bad |= 4;
          sigaltstack(0, &cur);
          if (cur.ss_sp != alt || cur.ss_size != sizeof alt || cur.ss_flags != 0) bad |= 8;
          if (bad) printf("round %ld BAD (1 registers, 2 nanosleep errno %d, 4 mask, 8 altstack: %d) rt=%ld\\n",
                          round, err, bad, rt_count);
          else printf("round %ld OK rt=%ld\\n", round, rt_count);
        }
      }
      """;

  private static final int RT = 40;
  private static final Pattern STEP = Pattern.compile("qpatch-remote-step (\\d+): (.*)");

  @TempDir Path tmp;
  private int sending, sent;
  private final Random random = new Random(42);

  @Test
  void killed_during_remote_syscalls_and_calls_the_target_keeps_running_intact() throws Exception {
    Path exe = Fixtures.c("remotekill", TARGET, "-O2");
    try (LiveProcess target = LiveProcess.start(tmp.resolve("target.out"), exe.toString())) {
      String work = target.awaitOutput(o -> o.contains("work="), Duration.ofSeconds(5))
          .lines().filter(l -> l.startsWith("work=")).findFirst().orElseThrow().substring(5);
      TreeSet<String> killedAt = new TreeSet<>();
      for (int step : steps()) {
        String last = killAtStep(target, work, step);
        killedAt.add(last);
        String when = "killed after step " + step + " (" + last + ")";
        assertIntact(target, when);
        awaitSignals(target, when);
        assertControlPageRemovable(target, when);
      }
      // 31 step names in all; which are reached depends on which calls were let go
      assertTrue(killedAt.size() >= 20, "distinct steps killed at: " + killedAt);
      killedWhileLetGo(target, work, "bootstrap released");
      killedWhileLetGo(target, work, "syscall released");
      for (String kind : List.of("bootstrap", "syscall", "call")) {
        assertTrue(killedAt.stream().anyMatch(s -> s.startsWith(kind + " ")), kind + " in " + killedAt);
      }
      for (int k = 0; k < 10; k++) {
        killAtRandom(target, work, k);
        assertIntact(target, "random kill " + k);
      }
      assertControlPageRemovable(target, "at the end");
    }
  }

  /**
   * Steps of the first round (the thread held alone): the control page made first by four
   * system calls, each a hold of its own, of eight steps each with the thread stopped
   * throughout, or four when it is let go for the call (not when stopped in its nanosleep);
   * then the first mprotect (5 steps let go, 9 not), getpid (9) and call (11) through the
   * page; and removing the page after the fourth pair. Which step a number lands on varies
   * with that: the numbers cover every step of the first calls, and the removal wherever it
   * falls (from 101 to 129).
   */
  private static List<Integer> steps() {
    List<Integer> steps = new ArrayList<>();
    for (int i = 1; i <= 61; i++) steps.add(i);
    for (int i = 101; i <= 129; i += 2) steps.add(i);
    return steps;
  }

  /**
   * Killed right after the thread was let go to make a call itself ({@code label}: "bootstrap
   * released", "syscall released"), whichever step number that is: it depends on where the
   * thread was stopped (it is let go only when not in its nanosleep), so the child kills
   * itself at the first step of that name (it loops over its operations until one lands).
   */
  private void killedWhileLetGo(LiveProcess target, String work, String label) throws Exception {
    Path out = tmp.resolve("child-" + label.replace(' ', '-') + ".out");
    Process child = child(target.pid(), work, out, List.of("" + RT),
        "-Dqpatch.test.remoteKillAfter=" + label, "-Dqpatch.test.remoteSteps=true");
    if (!child.waitFor(20, TimeUnit.SECONDS)) {
      child.destroyForcibly();
      fail("child with remoteKillAfter=" + label + " did not die");
    }
    List<String> steps = steps(Files.readAllLines(out));
    assertEquals(128 + 9, child.exitValue(), "child exit; steps: " + steps);
    assertEquals(label, steps.getLast(), "killed after the first " + label);
    String when = "killed after step " + steps.size() + " (" + label + ")";
    assertIntact(target, when);
    awaitSignals(target, when);
    assertControlPageRemovable(target, when);
  }

  /** Runs the child until it kills itself after step {@code n}; returns that step's name. */
  private String killAtStep(LiveProcess target, String work, int n) throws Exception {
    Path out = tmp.resolve("child-" + n + ".out");
    Process child = child(target.pid(), work, out, List.of("" + RT),
        "-Dqpatch.test.remoteKillAt=" + n, "-Dqpatch.test.remoteSteps=true");
    if (!child.waitFor(20, TimeUnit.SECONDS)) {
      child.destroyForcibly();
      fail("child with remoteKillAt=" + n + " did not die");
    }
    List<String> lines = Files.readAllLines(out);
    assertEquals(128 + 9, child.exitValue(), "child exit; output: " + lines);
    List<String> steps = steps(lines);
    assertEquals(n, steps.size(), "steps printed before the kill: " + steps);
    return steps.getLast();
  }

  /** The steps a child printed, in order; counts the signals it sent. */
  private List<String> steps(List<String> lines) {
    List<String> steps = new ArrayList<>();
    for (String line : lines) {
      Matcher m = STEP.matcher(line);
      if (m.matches()) steps.add(m.group(2));
      if (line.equals("sending")) sending++;
      if (line.equals("sent")) sent++;
    }
    return steps;
  }

  /** Starts the child without a hook, lets it work a random while, SIGKILLs it. */
  private void killAtRandom(LiveProcess target, String work, int k) throws Exception {
    Path out = tmp.resolve("random-" + k + ".out");
    Process child = child(target.pid(), work, out, List.of());
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!Files.readString(out).contains("ops ")) {
      if (!child.isAlive() || System.nanoTime() > deadline) {
        child.destroyForcibly();
        fail("child made no remote operation: " + Files.readString(out));
      }
      Thread.sleep(5);
    }
    Thread.sleep(random.nextInt(60));
    assertTrue(child.isAlive(), "child ended by itself: " + Files.readString(out));
    child.destroyForcibly().waitFor();
  }

  private Process child(int pid, String work, Path output, List<String> args, String... props)
      throws IOException {
    List<String> all = new ArrayList<>(List.of("" + pid, work));
    all.addAll(args);
    return ChildJvm.of(RemoteOpsChild.class, List.of(props), all).redirectOutput(output.toFile()).start();
  }


  /** Alive, no BAD round, and a new OK round printed after the kill. */
  private static void assertIntact(LiveProcess target, String when) {
    int mark = target.output().length();
    String out = target.awaitOutput(o -> o.indexOf(" OK ", mark) >= 0, Duration.ofSeconds(5));
    assertTrue(target.isAlive(), "target died " + when);
    assertFalse(out.contains("BAD"), when + ": the target saw its state changed:\n"
        + out.lines().filter(l -> l.contains("BAD")).findFirst().orElse(""));
  }

  /** A normal attach and detach finds the control page idle and removes it. */
  private static void assertControlPageRemovable(LiveProcess target, String when) {
    try (Target t = Target.attach(target.pid())) {
      t.detach();
      assertTrue(t.maps().stream().noneMatch(ControlPage::isOurs),
          "control page left " + when + ": " + t.maps().stream().filter(ControlPage::isOurs).toList());
    }
  }

  /** Every real-time signal sent so far arrives (they queue, none merge). */
  private void awaitSignals(LiveProcess target, String when) {
    String want = "rt=" + sent + "\n";
    long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
    while (!target.output().contains(want)) {
      if (System.nanoTime() > deadline) {
        List<String> lines = target.output().lines().toList();
        fail(when + ": " + sent + " signals sent, the target counted: " + lines.getLast());
      }
      LiveProcess.sleep(10);
    }
  }
}
