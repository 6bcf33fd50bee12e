package io.qpatch.patch;

import io.qpatch.elf.ElfFile;
import io.qpatch.link.LinkOptions;
import io.qpatch.link.LinkPlan;
import io.qpatch.link.ObjectLoader;
import io.qpatch.link.Segment;
import io.qpatch.link.SymbolSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The patch engine's one door into the object loader ({@link ObjectLoader}): a patch
 * object laid out by it, its memfd and mappings made by remote system calls each in one
 * held thread ({@link TargetMemory}), and what the patch record keeps of the result.
 * Nothing reaches the memory before the patch is activated.
 */
final class ObjectLink {
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

  /** Loads {@code elf} into the running target within +-2 GiB of {@code near} ({@link ObjectLoader#load}). */
  static Linked load(TargetMemory memory, ElfFile elf, SymbolSource source, String id,
      Map<String, Long> overrides, long near) {
    return new Linked(ObjectLoader.load(memory, elf, source, options(id, overrides), near));
  }

  private static LinkOptions options(String id, Map<String, Long> overrides) {
    return LinkOptions.named(id).withOverrides(overrides);
  }
}
