package io.qpatch.patch;

import io.qpatch.error.QpatchException;
import io.qpatch.proc.Mapping;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Frees a patch's memory once nothing can still run in it: no thread's pc, register or
 * stack word points into any of its mappings (a hook blocked in the original function
 * has its return address on the stack), each thread checked while held alone ({@link
 * Quiescence#referencing}). The destructors run first, then the object and stub mappings
 * go, the record last, each checked against {@code /proc/PID/maps} first so that an
 * address the target has reused since is never unmapped; the destructors in one held
 * thread, each munmap in one, the others running on, as when a library is closed with
 * dlclose(3).
 */
final class Unloading {
  private static final long RETRY_MILLIS = 50;

  private final TargetMemory memory;
  private final RecordStore store;
  private final Consumer<String> progress;

  Unloading(TargetMemory memory, RecordStore store, Consumer<String> progress) {
    this.memory = memory;
    this.store = store;
    this.progress = progress;
  }

  /**
   * Waits up to {@code wait} (the target running meanwhile) for {@code r} to be unused, then
   * frees it. Returns the thread still using it when the wait ran out (the patch then stays
   * mapped, for a later command to free).
   */
  Optional<Quiescence.Busy> unloadWhenUnused(PatchRecord r, Duration wait) {
    long deadline = System.nanoTime() + wait.toNanos();
    boolean told = false;
    PatchRecord current = store.reread(r);
    while (true) {
      Optional<Quiescence.Busy> busy = tryUnload(current);
      if (busy.isEmpty() || System.nanoTime() > deadline) return busy;
      if (!told) {
        Quiescence.Busy b = busy.get();
        progress.accept("waiting for thread " + b.tid() + " (" + b.threadName() + ") to leave "
            + r.name() + " (it " + b.where() + ")");
        told = true;
      }
      sleep(RETRY_MILLIS);
    }
  }

  /**
   * Frees {@code r} (as read from the target since the last change to it) now if nothing
   * uses it, else says who does. Runs with the target running (each thread is held in turn
   * for the check, then one for each change), or inside a stop.
   */
  Optional<Quiescence.Busy> tryUnload(PatchRecord r) {
    if (r.state() == PatchState.ACTIVE) {
      throw new IllegalStateException(r.label() + " is active: deactivate it before unloading");
    }
    List<Mapping> maps = memory.target().maps();
    Optional<Quiescence.Busy> busy = new Quiescence(memory.target()).referencing(ranges(r), maps);
    if (busy.isPresent()) return busy;
    free(r, maps);
    return Optional.empty();
  }

  /** Destructors, then the mappings; the state says how far a killed qpatch got. */
  private void free(PatchRecord r, List<Mapping> maps) {
    PatchRecord current = r;
    if (current.state() == PatchState.RETIRED || current.state() == PatchState.LOADED) {
      if (current.state() == PatchState.LOADED) current = store.writeState(current, PatchState.RETIRED);
      finalize(current);
      current = store.writeState(current, PatchState.UNLOADING);
    }
    deregisterFrames(current);
    unmap(current.regions(), maps);
  }

  /**
   * Takes the object's unwind tables back from the unwinder, whatever the state (a load
   * cut short after registering them): the flag is cleared first, because libgcc aborts
   * the process on deregistering tables twice, while tables left registered only matter
   * to an exception thrown from that address range later.
   */
  private void deregisterFrames(PatchRecord r) {
    Finalizer f = r.finalizer();
    if (!f.mustDeregister()) return;
    store.writeFramesRegistered(r, false);
    try {
      Stops.held(memory.target(), "unwind tables of " + r.name(), () -> {
        memory.call(f.deregisterFrame(), "__deregister_frame for " + r.name(), f.ehFrame());
        return null;
      });
    } catch (QpatchException e) {
      progress.accept("taking back the unwind tables of " + r.name() + " failed (" + e.getMessage() + "); unloading anyway");
    }
  }

  /** Destructors, all in one held thread; one that fails is reported, and the unload goes on. */
  private void finalize(PatchRecord r) {
    Finalizer f = r.finalizer();
    if (f.fini().isEmpty() && (f.dsoHandle() == 0 || f.cxaFinalize() == 0)) return;
    try {
      Stops.held(memory.target(), "destructors of " + r.name(), () -> {
        runDestructors(r, f);
        return null;
      });
    } catch (QpatchException e) {
      progress.accept("a destructor of " + r.name() + " failed (" + e.getMessage() + "); unloading anyway");
    }
  }

  private void runDestructors(PatchRecord r, Finalizer f) {
    for (long fini : f.fini()) memory.call(fini, ".fini_array entry of " + r.name());
    if (f.dsoHandle() != 0 && f.cxaFinalize() != 0) {
      memory.call(f.cxaFinalize(), "__cxa_finalize for " + r.name(), f.dsoHandle());
    }
  }

  /**
   * Unmaps {@code regions} that still are qpatch mappings in {@code maps}, the record last,
   * adjacent regions in one call (the linker's segments lie end to end).
   */
  void unmap(List<Region> regions, List<Mapping> maps) {
    List<Region> ordered = new ArrayList<>(regions);
    ordered.sort(Comparator.comparing((Region g) -> g.kind() == Region.Kind.RECORD)
        .thenComparing(Region::start, Long::compareUnsigned));
    for (Region g : coalesce(ordered)) {
      if (stillOurs(g, maps)) memory.unmap(g.start(), g.length(), g.toString());
    }
  }

  private static List<Region> coalesce(List<Region> ordered) {
    List<Region> out = new ArrayList<>();
    for (Region g : ordered) {
      Region last = out.isEmpty() ? null : out.getLast();
      if (last != null && last.end() == g.start() && last.kind() == g.kind()) {
        out.set(out.size() - 1, new Region(last.start(), last.length() + g.length(), g.kind()));
      } else {
        out.add(g);
      }
    }
    return out;
  }

  /** Every mapping overlapping {@code g} is a qpatch patch mapping, and there is one. */
  private static boolean stillOurs(Region g, List<Mapping> maps) {
    List<Mapping> overlapping = maps.stream().filter(m ->
        Long.compareUnsigned(m.start(), g.end()) < 0 && Long.compareUnsigned(g.start(), m.end()) < 0)
        .toList();
    return !overlapping.isEmpty() && overlapping.stream().allMatch(PatchNames::isPatchMapping);
  }

  static List<Quiescence.Range> ranges(PatchRecord r) {
    return r.regions().stream().map(g -> new Quiescence.Range(g.start(), g.end(), switch (g.kind()) {
      case OBJECT -> r.name();
      case STUBS -> r.name() + "'s stubs";
      case RECORD -> r.name() + "'s record";
    })).toList();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
