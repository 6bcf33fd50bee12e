package io.qpatch.patch;

import io.qpatch.proc.Mapping;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Where to put a stub area so that a 5-byte {@code jmp rel32} at a function entry reaches
 * every byte of it: a free gap of the address space within +-2 GiB.
 *
 * <p>Keeps clear of the first 64 KiB (vm.mmap_min_addr), the top of the 47-bit user space,
 * a guard page next to every mapping, 1 GiB above the program break (the heap still grows
 * with brk(2)) and 16 MiB below the main stack (RLIMIT_STACK 8 MiB by default plus the
 * stack guard gap); the same rules as the object linker's placement.
 */
final class NearSpace {
  /** rel32 reaches 2^31 - 1 bytes forward; count from the end of the 5-byte jump. */
  private static final long REACH = 0x7fff0000L;
  private static final long MIN_ADDR = 0x10000;
  private static final long MAX_ADDR = 0x7ffffffff000L;
  private static final long GUARD = TargetMemory.PAGE;
  private static final long HEAP_ROOM = 1L << 30;
  private static final long STACK_ROOM = 16L << 20;

  private NearSpace() {}

  /** Page-aligned addresses for {@code size} bytes, closest to {@code near} first. */
  static List<Long> candidates(List<Mapping> maps, long near, long size) {
    List<Long> out = new ArrayList<>();
    long gapStart = MIN_ADDR;
    for (long[] busy : busyRanges(maps)) {
      addCandidate(out, gapStart, busy[0], near, size);
      gapStart = Math.max(gapStart, busy[1]);
    }
    addCandidate(out, gapStart, MAX_ADDR, near, size);
    out.sort(Comparator.comparingLong(a -> distance(a, size, near)));
    return out;
  }

  /** Whether every byte of [base, base+size) is within rel32 reach of {@code near}. */
  static boolean reaches(long base, long size, long near) {
    return distance(base, size, near) <= REACH;
  }

  private static List<long[]> busyRanges(List<Mapping> maps) {
    List<long[]> busy = new ArrayList<>();
    for (Mapping m : maps) {
      if (Long.compareUnsigned(m.start(), MAX_ADDR) >= 0) continue;
      long start = m.start() - GUARD;
      long end = m.end() + GUARD;
      if (m.path().equals("[heap]")) end = m.end() + HEAP_ROOM;
      if (m.path().equals("[stack]")) start = m.start() - STACK_ROOM;
      busy.add(new long[] {start, end});
    }
    busy.sort(Comparator.comparingLong(r -> r[0]));
    return busy;
  }

  private static void addCandidate(List<Long> out, long start, long end, long near, long size) {
    long lo = (start + TargetMemory.PAGE - 1) & -TargetMemory.PAGE;
    long hi = (end - size) & -TargetMemory.PAGE;
    if (end - start < size || hi < lo) return;
    long want = Math.min(Math.max(near & -TargetMemory.PAGE, lo), hi);
    if (reaches(want, size, near)) out.add(want);
  }

  private static long distance(long base, long size, long near) {
    return Math.max(Math.abs(base - near), Math.abs(base + size - near));
  }
}
