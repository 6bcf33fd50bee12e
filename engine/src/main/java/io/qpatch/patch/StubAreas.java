package io.qpatch.patch;

import io.qpatch.error.RefusedException;
import io.qpatch.proc.Mapping;
import java.util.ArrayList;
import java.util.List;

/**
 * Maps the stub areas of a patch: one r-x area per group of redirected functions that
 * lie close together (a module's functions share one), each within rel32 reach of every
 * function of its group, and hands out one slot (stub + trampoline) per function.
 */
final class StubAreas {
  /** Functions farther apart than this get areas of their own. */
  private static final long GROUP_SPAN = 1L << 30;
  private static final int MAX_TRIES = 8;

  /** The mapped areas and, in plan order, each function's slot address. */
  record Allocation(List<Region> areas, List<Long> slots) {}

  private StubAreas() {}

  /** The target must be stopped. On failure every area already mapped is unmapped. */
  static Allocation allocate(TargetMemory memory, String id, List<Planner.Planned> plan) {
    List<Region> areas = new ArrayList<>();
    Long[] slots = new Long[plan.size()];
    try {
      for (List<Integer> group : groups(plan)) {
        Region area = mapNear(memory, id, plan, group);
        areas.add(area);
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
        long lo = Math.min(a, plan.get(g.getFirst()).address());
        long hi = Math.max(a, g.stream().mapToLong(j -> plan.get(j).address()).max().orElseThrow());
        if (hi - lo < GROUP_SPAN) home = g;
      }
      if (home == null) groups.add(home = new ArrayList<>());
      home.add(i);
    }
    return groups;
  }

  private static Region mapNear(TargetMemory memory, String id, List<Planner.Planned> plan,
      List<Integer> group) {
    long size = TargetMemory.pages(group.stream().mapToLong(i -> plan.get(i).slotSize()).sum());
    long lo = group.stream().mapToLong(i -> plan.get(i).address()).min().orElseThrow();
    long hi = group.stream().mapToLong(i -> plan.get(i).address()).max().orElseThrow();
    List<Mapping> maps = memory.target().maps();
    int tries = 0;
    for (long base : NearSpace.candidates(maps, lo, size)) {
      if (!NearSpace.reaches(base, size, hi)) continue;
      if (tries++ == MAX_TRIES) break;
      long at = memory.map(PatchNames.stubsMemfd(id), size,
          TargetMemory.PROT_READ | TargetMemory.PROT_EXEC, TargetMemory.MAP_PRIVATE, base);
      if (at != 0) return new Region(at, size, Region.Kind.STUBS);
    }
    throw new RefusedException(String.format("pid %d: no free address range of %d bytes within"
        + " +-2 GiB of 0x%x for the stubs of %s", memory.target().pid(), size, lo,
        plan.get(group.getFirst()).name()));
  }

  private static void unmapQuietly(TargetMemory memory, Region area, RuntimeException cause) {
    try {
      memory.unmap(area.start(), area.length(), "stub area");
    } catch (RuntimeException e) {
      cause.addSuppressed(e);
    }
  }
}
