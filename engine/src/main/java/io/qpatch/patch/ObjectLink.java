package io.qpatch.patch;

import io.qpatch.link.LinkOptions;
import io.qpatch.link.LoadedObject;
import io.qpatch.link.ObjectLoader;
import io.qpatch.link.Segment;
import io.qpatch.link.SymbolSource;
import io.qpatch.proc.Target;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The patch engine's one door into the object linker ({@code io.qpatch.link}): what it
 * needs from a loaded object, in the patch layer's terms.
 */
final class ObjectLink {
  /** A patch object laid out in the target. */
  record Linked(LoadedObject object) {
    /** Every mapping of the object, as regions to record. */
    List<Region> regions() {
      List<Region> out = new ArrayList<>();
      for (Segment s : object.segments()) out.add(new Region(s.address(), s.size(), Region.Kind.OBJECT));
      return out;
    }

    long address(String symbol) {
      OptionalLong a = object.find(symbol);
      if (a.isEmpty()) throw new IllegalStateException(symbol + " was not laid out by the linker");
      return a.getAsLong();
    }

    OptionalLong find(String symbol) {
      return object.find(symbol);
    }

    List<Long> constructors() {
      return object.initArray();
    }

    /** .fini_array last to first, then __cxa_finalize(&__dso_handle), as dlclose does. */
    Finalizer finalizer() {
      List<Long> fini = new ArrayList<>(object.finiArray());
      java.util.Collections.reverse(fini);
      return new Finalizer(object.dsoHandle(), object.plan().cxaFinalize(), fini);
    }
  }

  private ObjectLink() {}

  /** Links without touching the target: every input error is reported here. */
  static void check(PatchObject object, SymbolSource source, String id, Map<String, Long> overrides) {
    ObjectLoader.size(object.elf(), source, options(id, overrides));
  }

  /** Loads the object into the stopped target within +-2 GiB of {@code near}. */
  static Linked load(Target target, PatchObject object, SymbolSource source, String id,
      Map<String, Long> overrides, long near) {
    return new Linked(ObjectLoader.load(target, object.elf(), source, options(id, overrides), near));
  }

  private static LinkOptions options(String id, Map<String, Long> overrides) {
    return LinkOptions.named(id).withOverrides(overrides);
  }
}
