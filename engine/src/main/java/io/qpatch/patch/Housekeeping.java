package io.qpatch.patch;

import io.qpatch.error.SyscallException;
import io.qpatch.proc.Mapping;
import io.qpatch.proc.ProcFds;
import io.qpatch.proc.Target;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a qpatch command tidies before it starts: whatever an earlier command could not
 * finish or was killed in the middle of. Rolled-back patches whose memory was still in
 * use are freed once it is not; a load cut short (a record without its magic, a state of
 * LOADING, mappings no record lists) is undone; memfd descriptors left open in the target
 * by a command killed between memfd_create and close are closed (a patch's, and the control
 * mapping's, which a command makes, maps and closes before it holds anything else). Only
 * qpatch's own mappings and descriptors (names {@code qpatch:ID...}, see {@link PatchNames},
 * and {@code qpatch-control}) are touched,
 * and nothing a thread still uses. {@code qpatch -q} does not tidy; it reports.
 */
final class Housekeeping {
  private final TargetMemory memory;
  private final RecordStore store;
  private final Unloading unloading;

  Housekeeping(TargetMemory memory, RecordStore store, Unloading unloading) {
    this.memory = memory;
    this.store = store;
    this.unloading = unloading;
  }

  /** Tidies; returns what was done, one line each, for the user. */
  List<String> run() {
    List<Mapping> maps = memory.target().maps();
    List<RecordStore.Found> found = store.scan(maps);
    List<PatchRecord> leftovers = RecordStore.valid(found).stream()
        .filter(r -> r.state() != PatchState.LOADED && r.state() != PatchState.ACTIVE).toList();
    List<Region> debris = found.stream().noneMatch(RecordStore.Found::isCorrupt)
        ? debris(maps, RecordStore.valid(found)) : List.of();
    List<Integer> fds = leakedDescriptors();
    List<String> done = new ArrayList<>();
    if (leftovers.isEmpty() && debris.isEmpty() && fds.isEmpty()) return done;
    for (PatchRecord r : leftovers) {
      if (unloading.tryUnload(r).isEmpty()) done.add("freed the memory of " + r.label() + " (" + r.state().description() + ")");
    }
    List<Mapping> now = memory.target().maps();
    boolean freeDebris = !debris.isEmpty()
        && new Quiescence(memory.target()).referencing(ranges(debris), now).isEmpty();
    if (freeDebris) unloading.unmap(debris, now);
    for (int fd : fds) closeQuietly(fd);
    if (freeDebris) done.add("removed " + debris.size() + " mapping(s) left by an interrupted load");
    return done;
  }

  /** qpatch patch mappings that no valid record lists (incomplete records included). */
  static List<Region> debris(List<Mapping> maps, List<PatchRecord> records) {
    List<Region> out = new ArrayList<>();
    for (Mapping m : maps) {
      if (!PatchNames.isPatchMapping(m)) continue;
      boolean listed = records.stream().anyMatch(r -> r.covers(m.start()));
      if (!listed) out.add(new Region(m.start(), m.size(), Region.Kind.OBJECT));
    }
    return out;
  }

  private static List<Quiescence.Range> ranges(List<Region> regions) {
    return regions.stream().map(g -> new Quiescence.Range(g.start(), g.end(), "leftover " + g)).toList();
  }

  /** Descriptors of the target open on qpatch's memfds: none is kept open on purpose. */
  private List<Integer> leakedDescriptors() {
    return ProcFds.memfds(memory.target().pid()).entrySet().stream()
        .filter(e -> PatchNames.isPatchName(e.getValue()) || Target.isControlMappingName(e.getValue()))
        .map(Map.Entry::getKey).toList();
  }

  private void closeQuietly(int fd) {
    try {
      Stops.held(memory.target(), "close leaked descriptor " + fd, () -> {
        memory.target().close(fd);
        return null;
      });
    } catch (SyscallException e) {
      // already closed by the target itself
    }
  }
}
