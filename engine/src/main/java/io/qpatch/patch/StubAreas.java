package io.qpatch.patch;

import io.qpatch.sys.Mman;
import io.qpatch.link.Placement;
import io.qpatch.proc.Mapping;
import java.util.ArrayList;
import java.util.List;

/**
 * The stub areas of a patch: one r-x area per group of redirected functions that lie
 * close together (a module's functions share one), each within rel32 reach of every
 * function of its group, with one slot (stub + trampoline) per function. The areas are
 * mapped from the patch's memfd, after its record.
 */
final class StubAreas {
  /** Functions farther apart than this get areas of their own. */
  private static final long GROUP_SPAN = 1L << 30;

  /** The mapped areas and, in plan order, each function's slot address. */
  record Allocation(List<Region> areas, List<Long> slots) {}

  private final List<Planner.Planned> plan;
  private final List<List<Integer>> groups;
  private final List<Mapping> maps;

  /**
   * Groups the functions; {@code maps}, read before the stop, is where each area's place
   * is chosen from ({@link Placement#mapNear}: an address taken since is refused by
   * MAP_FIXED_NOREPLACE and the next one tried).
   */
  StubAreas(List<Planner.Planned> plan, List<Mapping> maps) {
    this.plan = plan;
    this.groups = groups(plan);
    this.maps = maps;
  }

  /** The bytes all areas take in the memfd, whole pages each. */
  long size() {
    return groups.stream().mapToLong(this::size).sum();
  }

  /**
   * Maps the areas from {@code fd} at {@code offset} on; the target must be stopped. On
   * failure every area already mapped is unmapped.
   */
  Allocation map(TargetMemory memory, int fd, long offset, String what) {
    List<Region> areas = new ArrayList<>();
    Long[] slots = new Long[plan.size()];
    try {
      for (int g = 0; g < groups.size(); g++) {
        List<Integer> group = groups.get(g);
        Region area = mapNear(memory, fd, offset, group, what);
        areas.add(area);
        offset += area.length();
        long next = area.start();
        for (int i : group) {
          slots[i] = next;
          next += plan.get(i).slotSize();
        }
      }
    } catch (RuntimeException e) {
      areas.forEach(a -> unmapQuietly(memory, a, e));
      throw e;
    }
    return new Allocation(List.copyOf(areas), List.of(slots));
  }

  /** Indexes into {@code plan}, grouped so that each group spans less than 1 GiB. */
  private static List<List<Integer>> groups(List<Planner.Planned> plan) {
    List<List<Integer>> groups = new ArrayList<>();
    for (int i = 0; i < plan.size(); i++) {
      long a = plan.get(i).address();
      List<Integer> home = null;
      for (List<Integer> g : groups) {
        long lo = Math.min(a, g.stream().mapToLong(j -> plan.get(j).address()).min().orElseThrow());
        long hi = Math.max(a, g.stream().mapToLong(j -> plan.get(j).address()).max().orElseThrow());
        if (hi - lo < GROUP_SPAN) home = g;
      }
      if (home == null) groups.add(home = new ArrayList<>());
      home.add(i);
    }
    return groups;
  }

  private long size(List<Integer> group) {
    return Mman.pages(group.stream().mapToLong(i -> plan.get(i).slotSize()).sum());
  }

  private Region mapNear(TargetMemory memory, int fd, long offset, List<Integer> group, String what) {
    long size = size(group);
    long lo = group.stream().mapToLong(i -> plan.get(i).address()).min().orElseThrow();
    long hi = group.stream().mapToLong(i -> plan.get(i).address()).max().orElseThrow();
    Planner.Planned first = plan.get(group.getFirst());
    long at = Placement.mapNear(maps, lo, hi, size, base -> memory.map(fd, offset, size,
        Mman.PROT_READ | Mman.PROT_EXEC, Mman.MAP_PRIVATE, base, what) != 0,
        memory.pid(), "the stubs of " + first.name());
    return new Region(at, size, Region.Kind.STUBS);
  }

  private static void unmapQuietly(TargetMemory memory, Region area, RuntimeException cause) {
    try {
      memory.unmap(area.start(), area.length(), "stub area");
    } catch (RuntimeException e) {
      cause.addSuppressed(e);
    }
  }
}
