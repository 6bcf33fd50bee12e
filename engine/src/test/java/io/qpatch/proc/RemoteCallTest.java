package io.qpatch.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.error.RefusedException;
import io.qpatch.sys.Registers;
import io.qpatch.sys.Signals;
import io.qpatch.symbols.ProcessSymbols;
import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RemoteCallTest {
  /**
   * The main thread sums doubles in an xmm register in a tight loop; a remote call
   * that clobbers vector registers (it fills every xmm register) must not change the sum.
   */
  private static final String TARGET =
      """
      #include <signal.h>
      #include <stdio.h>
      #include <string.h>
      #include <unistd.h>
      static volatile sig_atomic_t stop;
      static void on_term(int s) { stop = 1; }
      long add3(long a, long b, long c) { return a + b * 10 + c * 100; }
      long args6(long a, long b, long c, long d, long e, long f) {
        return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f;
      }
      void say(const char *s) { printf("said %s\\n", s); fflush(stdout); }
      long crash(void) { return *(volatile long *) 8; }
      void clobber(void) { /* all ones (NaN) in every vector register */
        __asm__ volatile(
            "pcmpeqd %%xmm0,%%xmm0\\n pcmpeqd %%xmm1,%%xmm1\\n pcmpeqd %%xmm2,%%xmm2\\n"
            "pcmpeqd %%xmm3,%%xmm3\\n pcmpeqd %%xmm4,%%xmm4\\n pcmpeqd %%xmm5,%%xmm5\\n"
            "pcmpeqd %%xmm6,%%xmm6\\n pcmpeqd %%xmm7,%%xmm7\\n pcmpeqd %%xmm8,%%xmm8\\n"
            "pcmpeqd %%xmm9,%%xmm9\\n pcmpeqd %%xmm10,%%xmm10\\n pcmpeqd %%xmm11,%%xmm11\\n"
            "pcmpeqd %%xmm12,%%xmm12\\n pcmpeqd %%xmm13,%%xmm13\\n pcmpeqd %%xmm14,%%xmm14\\n"
            "pcmpeqd %%xmm15,%%xmm15\\n" ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",
            "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
            "xmm15");
      }
      int main(void) {
        signal(SIGTERM, on_term);
        setvbuf(stdout, 0, _IOLBF, 0);
        printf("ready\\n");
        double acc = 0;
        long n = 0;
        while (!stop) { /* no calls: acc lives in an xmm register */
          acc += 1.0;
          n++;
        }
        printf("acc ok=%d\\n", acc == (double) n);
        return 0;
      }
      """;

  @TempDir Path tmp;

  private long sym(int pid, String name) {
    try (ProcessSymbols s = ProcessSymbols.of(pid)) {
      return s.lookup(name).address();
    }
  }

  @Test
  void callsFunctionsWithArgumentsAndRestoresTheThread() {
    Path exe = Fixtures.c("remotecall", TARGET, "-O1");
    try (LiveProcess p = LiveProcess.start(tmp.resolve("out"), exe.toString());
        Target t = waitReady(p)) {
      try (Target.Stopped s = t.stop()) {
        Registers before = t.registers(p.pid());
        assertEquals(3 + 20 + 100 * 7, t.callFunction(sym(p.pid(), "add3"), 3, 2, 7));
        assertEquals(1 + 4 + 9 + 16 + 25 + 36,
            t.callFunction(sym(p.pid(), "args6"), 1, 2, 3, 4, 5, 6));
        t.callFunction(sym(p.pid(), "clobber"));
        assertEquals(before, t.registers(p.pid()));
      }
      t.detach();
      p.signal(Signals.SIGTERM);
      assertTrue(p.awaitOutput(o -> o.contains("acc ok="), Duration.ofSeconds(5))
          .contains("acc ok=1"));
    }
  }

  @Test
  void callWithStringArgumentPrintsInTheTarget() {
    Path exe = Fixtures.c("remotecall", TARGET, "-O1");
    try (LiveProcess p = LiveProcess.start(tmp.resolve("out"), exe.toString());
        Target t = waitReady(p)) {
      try (Target.Stopped s = t.stop()) {
        long buf = t.mmap(0, 4096, 3, 0x22, -1, 0);
        t.write(buf, "hello\0".getBytes());
        t.callFunction(sym(p.pid(), "say"), buf);
        t.munmap(buf, 4096);
      }
      p.awaitOutput(o -> o.contains("said hello"), Duration.ofSeconds(5));
    }
  }

  @Test
  void crashingCallIsReportedAndTheTargetSurvives() {
    Path exe = Fixtures.c("remotecall", TARGET, "-O1");
    try (LiveProcess p = LiveProcess.start(tmp.resolve("out"), exe.toString());
        Target t = waitReady(p)) {
      Map<String, Object> seen = new HashMap<>();
      try (Target.Stopped s = t.stop()) {
        Registers before = t.registers(p.pid());
        RefusedException e =
            assertThrows(RefusedException.class, () -> t.callFunction(sym(p.pid(), "crash")));
        seen.put("msg", e.getMessage());
        assertEquals(before, t.registers(p.pid()));
      }
      assertTrue(((String) seen.get("msg")).contains("crashed (SIGSEGV at 0x"), seen.toString());
      t.detach();
      LiveProcess.sleep(50);
      p.signal(Signals.SIGTERM);
      assertTrue(p.awaitOutput(o -> o.contains("acc ok="), Duration.ofSeconds(5))
          .contains("acc ok=1"));
    }
  }

  private static Target waitReady(LiveProcess p) {
    p.awaitOutput(o -> o.contains("ready"), Duration.ofSeconds(5));
    return Target.attach(p.pid());
  }
}
