package io.qpatch.link;

import io.qpatch.error.RefusedException;
import io.qpatch.proc.Mapping;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The one way qpatch chooses where to map memory into a target that its code must reach
 * with rel32 jumps and RIP-relative operands (+-2 GiB): patch objects, the patch layer's
 * stub areas, the in-process tracer's trampolines and rings, out-of-line trampolines. In a
 * free gap of the address space, as close as possible to the code it will be reached from
 * ({@code near}), every byte within reach of {@code near} and of {@code farthest}; {@link
 * #mapNear} tries the candidates in turn with the caller's mapping primitive.
 *
 * <p>Keeps clear of: the first 64 KiB (vm.mmap_min_addr), the top of the 47-bit user space
 * (TASK_SIZE 0x7ffffffff000), one guard page next to every mapping, 1 GiB above the
 * program break so the heap can still grow with brk(2), and 16 MiB below the main stack
 * (RLIMIT_STACK 8 MiB by default plus the kernel's stack guard gap).
 */
public final class Placement {
  /**
   * How far a rel32 reaches, less 64 KiB of margin: the displacement counts from the end of
   * the instruction, which may lie a few bytes past the address being measured.
   */
  public static final long REACH = 0x7fff0000L;
  private static final long MIN_ADDR = 0x10000;
  private static final long MAX_ADDR = 0x7ffffffff000L;
  private static final long GUARD = Layout.PAGE;
  private static final long HEAP_ROOM = 1L << 30;
  private static final long STACK_ROOM = 16L << 20;

  private Placement() {}

  /** How many candidates {@link #mapNear} tries: each refused one was taken since the maps were read. */
  private static final int MAX_TRIES = 8;

  /** Maps memory at exactly {@code base}; false (nothing left mapped) when the range was taken meanwhile. */
  @FunctionalInterface
  public interface MapAt {
    boolean map(long base);
  }

  /**
   * Maps {@code size} bytes as close to {@code near} as there is room, all of them within
   * rel32 reach of both {@code near} and {@code farthest} (the other end of the code that
   * jumps there; {@code near} again when there is one spot). {@code mapAt} maps at a
   * candidate with MAP_FIXED_NOREPLACE, which refuses a range mapped since {@code maps}
   * were read (EEXIST), and the next candidate is tried. Returns the base, or throws a
   * {@link RefusedException} saying that {@code what} found no room near {@code near}.
   */
  public static long mapNear(List<Mapping> maps, long near, long farthest, long size, MapAt mapAt,
      int pid, String what) {
    List<Long> bases = candidates(maps, near, size).stream()
        .filter(base -> reaches(base, size, farthest)).limit(MAX_TRIES).toList();
    for (long base : bases) {
      if (mapAt.map(base)) return base;
    }
    throw new RefusedException(String.format("process %d: no free address range of %d bytes within"
        + " +-2 GiB of 0x%x for %s", pid, size, near, what));
  }

  /** Candidate load addresses, closest to {@code near} first; empty when nothing is in reach. */
  public static List<Long> candidates(List<Mapping> maps, long near, long size) {
    List<long[]> busy = busyRanges(maps);
    List<Long> out = new ArrayList<>();
    long gapStart = MIN_ADDR;
    for (long[] b : busy) {
      addCandidate(out, gapStart, b[0], near, size);
      gapStart = Math.max(gapStart, b[1]);
    }
    addCandidate(out, gapStart, MAX_ADDR, near, size);
    out.sort(Comparator.comparingLong(a -> distance(a, size, near)));
    return out;
  }

  /** Occupied ranges with guards, sorted, in user space only ([vsyscall] is above it). */
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

  /** The address in gap [start, end) closest to {@code near}, if the object fits and reaches. */
  private static void addCandidate(List<Long> out, long start, long end, long near, long size) {
    long lo = Layout.align(start, Layout.PAGE);
    long hi = (end - size) & -Layout.PAGE;
    if (end - start < size || hi < lo) return;
    long want = Math.min(Math.max(near & -Layout.PAGE, lo), hi);
    if (reaches(want, size, near)) out.add(want);
  }

  /** Whether every byte of [base, base+size) is within rel32 reach of {@code near}. */
  public static boolean reaches(long base, long size, long near) {
    return distance(base, size, near) <= REACH;
  }

  /** The farther of the object's two ends from {@code near}. */
  public static long distance(long base, long size, long near) {
    return Math.max(Math.abs(base - near), Math.abs(base + size - near));
  }
}
