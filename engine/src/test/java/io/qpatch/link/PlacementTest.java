package io.qpatch.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.proc.Mapping;
import io.qpatch.proc.ProcMaps;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Where objects go, from real-looking /proc/PID/maps text. */
class PlacementTest {
  static final String MAPS = """
      555555554000-555555555000 r--p 00000000 fd:01 100 /usr/bin/prog
      555555555000-555555556000 r-xp 00001000 fd:01 100 /usr/bin/prog
      555555556000-555555558000 rw-p 00002000 fd:01 100 /usr/bin/prog
      555555558000-555555579000 rw-p 00000000 00:00 0 [heap]
      7ffff7dd0000-7ffff7df6000 r--p 00000000 fd:01 200 /usr/lib/x86_64-linux-gnu/libc.so.6
      7ffff7df6000-7ffff7f4b000 r-xp 00026000 fd:01 200 /usr/lib/x86_64-linux-gnu/libc.so.6
      7ffff7fc3000-7ffff7ff0000 r-xp 00000000 fd:01 300 /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
      7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 [stack]
      ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]
      """;

  /** The kernel pads the fields before the path to 73 columns (fs/proc/task_mmu.c). */
  static List<Mapping> maps() {
    StringBuilder padded = new StringBuilder();
    for (String line : MAPS.split("\n")) {
      String[] f = line.split(" ", 6);
      String head = String.join(" ", f[0], f[1], f[2], f[3], f[4]);
      padded.append(f.length > 5 ? String.format("%-72s %s", head, f[5]) : head).append('\n');
    }
    return ProcMaps.parse(padded.toString(), "test");
  }

  @Test
  void nearTheExecutableGoesJustBelowItWithAGuardPage() {
    long near = 0x555555555100L;
    List<Long> c = Placement.candidates(maps(), near, 0x3000);
    assertEquals(0x555555554000L - 0x1000 - 0x3000, c.getFirst());
  }

  @Test
  void neverInTheGigabyteAboveTheHeap() {
    long heapEnd = 0x555555579000L;
    for (long base : Placement.candidates(maps(), 0x555555555100L, 0x3000)) {
      assertTrue(base + 0x3000 <= 0x555555554000L || base >= heapEnd + (1L << 30),
          Long.toHexString(base));
    }
  }

  @Test
  void nearLibcEveryCandidateIsWithinReachAndInAGap() {
    long near = 0x7ffff7e00000L;
    List<Long> c = Placement.candidates(maps(), near, 0x10000);
    assertTrue(!c.isEmpty());
    for (long base : c) {
      assertTrue(Placement.distance(base, 0x10000, near) <= Placement.REACH);
      for (Mapping m : maps()) {
        assertTrue(base + 0x10000 <= m.start() || base >= m.end() || m.start() < 0,
            Long.toHexString(base) + " overlaps " + m);
      }
    }
  }

  @Test
  void nothingWhenNoGapIsWithinReach() {
    String full = "10000-7ffffffff000 rw-p 00000000 00:00 0\n";
    assertEquals(List.of(), Placement.candidates(ProcMaps.parse(full, "t"), 0x40000000L, 0x1000));
  }

  @Test
  void neverJustBelowTheStack() {
    long near = 0x7ffffffd0000L;
    for (long base : Placement.candidates(maps(), near, 0x1000)) {
      assertTrue(base + 0x1000 <= 0x7ffffffde000L - (16 << 20) || base >= 0x7ffffffff000L,
          Long.toHexString(base));
    }
  }
}
