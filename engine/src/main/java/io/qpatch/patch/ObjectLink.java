package io.qpatch.patch;

import io.qpatch.proc.MemfdFile;
import io.qpatch.elf.ElfFile;
import io.qpatch.error.RefusedException;
import io.qpatch.link.LinkOptions;
import io.qpatch.link.LinkPlan;
import io.qpatch.link.ObjectLoader;
import io.qpatch.link.Placement;
import io.qpatch.link.Segment;
import io.qpatch.link.SymbolSource;
import io.qpatch.proc.Mapping;
import io.qpatch.proc.Target;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The patch engine's one door into the object linker ({@code io.qpatch.link}), and how a
 * linked object gets into the target with the least interruption: linked and relocated
 * for a chosen address while the target runs; its memfd made and mapped (segment by
 * segment, MAP_SHARED, at fixed addresses with MAP_FIXED_NOREPLACE) by remote system calls,
 * each in one held thread ({@link TargetMemory}); then filled from our side through {@link MemfdFile}, the target running again. Nothing
 * reaches the memory before the patch is activated, so it may be filled while it runs.
 */
final class ObjectLink {
  /** Load addresses tried, closest first, when another mapping takes one meanwhile. */
  private static final int MAX_TRIES = 8;

  /** A patch object laid out in the target. */
  record Linked(LinkPlan plan) {
    /** Every mapping of the object, as regions to record. */
    List<Region> regions() {
      List<Region> out = new ArrayList<>();
      for (Segment s : plan.segments()) out.add(new Region(s.address(), s.size(), Region.Kind.OBJECT));
      return out;
    }

    long address(String symbol) {
      OptionalLong a = plan.find(symbol);
      if (a.isEmpty()) throw new IllegalStateException(symbol + " was not laid out by the linker");
      return a.getAsLong();
    }

    OptionalLong find(String symbol) {
      return plan.find(symbol);
    }

    List<Long> constructors() {
      return plan.initArray();
    }

    /** .fini_array last to first, then __cxa_finalize(&__dso_handle), as dlclose does. */
    Finalizer finalizer() {
      List<Long> fini = new ArrayList<>(plan.finiArray());
      java.util.Collections.reverse(fini);
      return new Finalizer(plan.dsoHandle(), plan.cxaFinalize(), fini, plan.ehFrame(), plan.deregisterFrame(), false);
    }

    /** {@code __register_frame} in the target, 0 when the object has no .eh_frame or the target no libgcc. */
    long registerFrame() {
      return plan.registerFrame();
    }
  }

  private ObjectLink() {}

  /** Links without touching the target: every input error is reported here. */
  static void check(PatchObject object, SymbolSource source, String id, Map<String, Long> overrides) {
    ObjectLoader.size(object.elf(), source, options(id, overrides));
  }

  /**
   * Loads {@code elf} into the running target within +-2 GiB of {@code near}, as the class
   * says. A failure after the memory was made unmaps it again.
   */
  static Linked load(TargetMemory memory, ElfFile elf, SymbolSource source, String id,
      Map<String, Long> overrides, long near) {
    LinkOptions options = options(id, overrides);
    Target target = memory.target();
    List<Mapping> maps = target.maps();
    ObjectLoader.requireNameFree(maps, options, target.pid());
    List<Long> candidates = Placement.candidates(maps, near, ObjectLoader.size(elf, source, options));
    for (long base : candidates.subList(0, Math.min(MAX_TRIES, candidates.size()))) {
      LinkPlan plan = ObjectLoader.plan(elf, source, options, base);
      TargetMemory.Memfd memfd = map(memory, plan);
      if (memfd == null) continue;
      try (MemfdFile file = memfd.file()) {
        fill(memory, file, plan);
      } catch (RuntimeException e) {
        unmapQuietly(memory, plan.segments(), e);
        throw e;
      }
      return new Linked(plan);
    }
    throw new RefusedException(String.format("process %d: no free range of %d bytes within"
        + " +-2 GiB of 0x%x to load %s", target.pid(), ObjectLoader.size(elf, source, options), near,
        elf.name()));
  }

  /**
   * The memfd, sized from our side, and every segment mapped from it; null (nothing left
   * mapped) when one of the addresses has been taken since the plan.
   */
  private static TargetMemory.Memfd map(TargetMemory memory, LinkPlan plan) {
    String name = plan.options().memfdName();
    TargetMemory.Memfd memfd = memory.memfd(name, plan.size());
    List<Segment> mapped = new ArrayList<>();
    try {
      for (Segment s : plan.segments()) {
        long at = memory.map(memfd.fd(), s.fileOffset(), s.size(), s.prot(), TargetMemory.MAP_SHARED,
            s.address(), name + " " + s.kind());
        if (at == 0) {
          unmap(memory, mapped);
          memfd.file().close();
          return null;
        }
        mapped.add(s);
      }
      return memfd;
    } catch (RuntimeException e) {
      memfd.file().close();
      unmapQuietly(memory, mapped, e);
      throw e;
    } finally {
      memory.close(memfd.fd(), name);
    }
  }

  /** Every segment's bytes; pages left zero need no write (a new memfd reads as zero). */
  private static void fill(TargetMemory memory, MemfdFile file, LinkPlan plan) {
    for (Segment s : plan.segments()) {
      byte[] bytes = plan.bytes(s);
      if (!isZero(bytes)) memory.fill(file, s.fileOffset(), bytes, plan.objectName() + " " + s.kind());
    }
  }

  private static void unmap(TargetMemory memory, List<Segment> segments) {
    for (Segment s : segments) memory.unmap(s.address(), s.size(), s.toString());
  }

  private static void unmapQuietly(TargetMemory memory, List<Segment> segments, RuntimeException cause) {
    if (segments.isEmpty()) return;
    try {
      unmap(memory, segments);
    } catch (RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  private static boolean isZero(byte[] bytes) {
    for (byte b : bytes) {
      if (b != 0) return false;
    }
    return true;
  }

  private static LinkOptions options(String id, Map<String, Long> overrides) {
    return LinkOptions.named(id).withOverrides(overrides);
  }
}
