package io.qpatch.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.error.BadInputException;
import io.qpatch.sys.Registers;
import io.qpatch.sys.Signals;
import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TargetTest {
  private static final int PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
  private static final int MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20;

  @TempDir Path tmp;

  private LiveProcess counter() {
    Path exe = Fixtures.c("counter", Programs.COUNTER, "-O1", "-pthread");
    LiveProcess p = LiveProcess.start(tmp.resolve("out.txt"), exe.toString());
    p.awaitOutput(s -> s.contains("line 1\n"), Duration.ofSeconds(10));
    return p;
  }

  /** Ends the counter with SIGTERM and returns its summary line's numbers. */
  private static Map<String, Long> finish(LiveProcess p) {
    p.signal(Signals.SIGTERM);
    String out = p.awaitOutput(s -> s.contains("done "), Duration.ofSeconds(10));
    assertEquals(0, p.waitExit(), "exit status");
    assertLinesIntact(out);
    Map<String, Long> summary = new HashMap<>();
    Matcher m = Pattern.compile("(\\w+)=(\\d+)").matcher(out.substring(out.indexOf("done ")));
    while (m.find()) summary.put(m.group(1), Long.parseLong(m.group(2)));
    return summary;
  }

  /** "line N" lines count up from 0 with none missing, duplicated or torn. */
  private static void assertLinesIntact(String out) {
    long expect = 0;
    for (String line : out.split("\n")) {
      if (line.startsWith("line ")) {
        assertEquals("line " + expect, line, "output line " + expect);
        expect++;
      } else {
        assertTrue(line.equals("started") || line.startsWith("done "), "unexpected: " + line);
      }
    }
    assertTrue(expect >= 2, "too few lines: " + expect);
  }

  @Test
  void attachDetach100TimesKeepsTargetMakingProgress() {
    try (LiveProcess p = counter()) {
      for (int i = 0; i < 100; i++) {
        try (Target t = Target.attach(p.pid())) {
          assertEquals(5, t.threadIds().size(), "threads traced in cycle " + i);
        }
      }
      Map<String, Long> s = finish(p);
      assertTrue(s.get("maxgap_us") < 100_000, "longest stall " + s.get("maxgap_us") + " us");
      assertTrue(s.get("iterations") > 100, "iterations " + s.get("iterations"));
    }
  }

  @Test
  void signalSentWhileStoppedIsDeliveredOnResume() {
    try (LiveProcess p = counter(); Target t = Target.attach(p.pid())) {
      try (Target.Stopped s = t.stop()) {
        p.signal(Signals.SIGUSR1);
        LiveProcess.sleep(50);
      }
      t.detach();
      assertEquals(1, finish(p).get("usr1"));
    }
  }

  @Test
  void signalSentWhileHeldIsDeliveredOnDetach() {
    try (LiveProcess p = counter(); Target t = Target.attach(p.pid())) {
      t.stop();
      p.signal(Signals.SIGUSR1);
      LiveProcess.sleep(50);
      t.detach();
      assertEquals(1, finish(p).get("usr1"));
    }
  }

  @Test
  void signalSentWhileAttachedAndRunningIsDelivered() {
    try (LiveProcess p = counter(); Target t = Target.attach(p.pid())) {
      p.signal(Signals.SIGUSR1);
      LiveProcess.sleep(100);
      t.detach();
      assertEquals(1, finish(p).get("usr1"));
    }
  }

  @Test
  void remoteMmapAppearsInMapsAndIsRemovedAgainWithRegistersRestored() {
    try (LiveProcess p = counter(); Target t = Target.attach(p.pid())) {
      try (Target.Stopped s = t.stop()) {
        Map<Integer, Registers> before = allRegisters(t);
        long addr = t.mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        assertTrue(mapped(t, addr), "mapping at 0x" + Long.toHexString(addr));
        t.write(addr + 100, new byte[] {1, 2, 3});
        assertEquals(3, t.read(addr + 100, 3)[2]);
        t.munmap(addr, 3 * 4096);
        assertFalse(mapped(t, addr), "mapping removed");
        assertEquals(before, allRegisters(t));
      }
      LiveProcess.sleep(50);
      t.detach();
      Map<String, Long> s = finish(p);
      assertTrue(s.get("iterations") > 0);
    }
  }

  @Test
  void memfdMappingIsNamedInMaps() {
    try (LiveProcess p = counter(); Target t = Target.attach(p.pid())) {
      try (Target.Stopped s = t.stop()) {
        int fd = t.memfdCreate("qpatch-test", 1 /* MFD_CLOEXEC */);
        t.ftruncate(fd, 4096);
        long addr = t.mmap(0, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
        t.close(fd);
        Mapping m = t.maps().stream().filter(x -> x.start() == addr).findFirst().orElseThrow();
        assertTrue(m.isMemfd(), m.toString());
        assertEquals("r-xs", m.perms());
        assertTrue(m.path().startsWith("/memfd:qpatch-test"), m.path());
        t.munmap(addr, 4096);
      }
      t.detach();
      finish(p);
    }
  }

  @Test
  void writesToReadOnlyCodeThroughProcMem() {
    try (LiveProcess p = counter(); Target t = Target.attach(p.pid())) {
      Mapping text =
          t.maps().stream().filter(m -> m.isExecutable() && m.isFile()).findFirst().orElseThrow();
      try (Target.Stopped s = t.stop()) {
        long at = text.end() - 16; // padding at the end of the text segment
        byte[] old = t.read(at, 4);
        t.write(at, new byte[] {(byte) 0xcc, (byte) 0xcc, (byte) 0xcc, (byte) 0xcc});
        assertEquals((byte) 0xcc, t.read(at, 4)[3]);
        t.write(at, old);
        assertEquals(List.of(old[0], old[3]), List.of(t.read(at, 4)[0], t.read(at, 4)[3]));
      }
      t.detach();
      finish(p);
    }
  }

  @Test
  void threadsCreatedDuringAttachAreAllTraced() {
    Path exe = Fixtures.c("churn", Programs.THREAD_CHURN, "-O1", "-pthread");
    try (LiveProcess p = LiveProcess.start(tmp.resolve("churn.txt"), exe.toString())) {
      p.awaitOutput(s -> s.contains("started"), Duration.ofSeconds(10));
      for (int i = 0; i < 20; i++) {
        try (Target t = Target.attach(p.pid()); Target.Stopped s = t.stop()) {
          Set<Integer> traced = new HashSet<>(t.threadIds());
          Set<Integer> all = tasks(p.pid());
          assertTrue(traced.containsAll(all), "untraced threads: " + all + " vs " + traced);
        }
      }
      assertTrue(p.isAlive());
    }
  }

  @Test
  void launchStopsAtFirstInstructionAndReportsExitCode() {
    try (Target t = Target.launch(List.of("/bin/sh", "-c", "exit 7"))) {
      assertTrue(t.isStopped());
      long pc = t.registers(t.pid()).rip();
      Mapping m = t.maps().stream().filter(x -> x.contains(pc)).findFirst().orElseThrow();
      assertTrue(m.path().contains("ld-linux"), "first instruction in " + m);
      assertEquals(7, t.waitExit());
    }
  }

  @Test
  void launchOfMissingProgramSaysSo() {
    BadInputException e =
        assertThrows(BadInputException.class, () -> Target.launch(List.of("/no/such/prog")));
    assertEquals("cannot run '/no/such/prog': no such file", e.getMessage());
  }

  @Test
  void attachToMissingPidSaysSo() {
    BadInputException e = assertThrows(BadInputException.class, () -> Target.attach(999_999_999));
    assertEquals("no process with pid 999999999", e.getMessage());
  }

  private static Map<Integer, Registers> allRegisters(Target t) {
    Map<Integer, Registers> m = new HashMap<>();
    for (int tid : t.threadIds()) m.put(tid, t.registers(tid));
    return m;
  }

  private static boolean mapped(Target t, long addr) {
    return t.maps().stream().anyMatch(m -> m.start() == addr);
  }

  private static Set<Integer> tasks(int pid) {
    try (var s = java.nio.file.Files.list(Path.of("/proc", "" + pid, "task"))) {
      Set<Integer> out = new HashSet<>();
      s.forEach(x -> out.add(Integer.parseInt(x.getFileName().toString())));
      return out;
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }
}
