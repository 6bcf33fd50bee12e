package io.qpatch.link;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.Relocation;
import io.qpatch.elf.RelocationSection;
import io.qpatch.elf.RelocationType;
import io.qpatch.patch.TargetMemory;
import io.qpatch.proc.Target;
import io.qpatch.symbols.ProcessSymbols;
import io.qpatch.sys.Mman;
import io.qpatch.testing.Fixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/** Objects for link tests: C through {@link Fixtures}, C++ objects built here, cached alike. */
final class LinkFixtures {
  private LinkFixtures() {}

  static Path cObject(String name, String source, String... flags) {
    return Fixtures.object(name, source, flags);
  }

  /** g++ -c {@code flags}. */
  static Path cxxObject(String name, String source, String... flags) {
    return Fixtures.cxxObject(name, source, flags);
  }

  /**
   * Loads {@code elf} into the stopped target through the one loader, as a patch is
   * ({@link ObjectLoader#load} with the patch engine's {@link TargetMemory}), resolving
   * against the process's modules.
   */
  static LinkPlan load(Target t, ElfFile elf, LinkOptions options, long near) {
    try (ProcessSymbols symbols = ProcessSymbols.of(t.pid())) {
      return load(t, elf, new ProcessSymbolSource(symbols, t), options, near);
    }
  }

  static LinkPlan load(Target t, ElfFile elf, SymbolSource source, LinkOptions options, long near) {
    return ObjectLoader.load(new TargetMemory(t), elf, source, options, near);
  }

  static void unload(Target t, LinkPlan plan) {
    ObjectLoader.unload(new TargetMemory(t), plan.segments());
  }

  /** {@code s}, NUL-terminated, in a new page of the target: an argument for a call there. */
  static long string(Target t, String s) {
    long page = t.mmap(0, 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
    t.write(page, (s + "\0").getBytes(StandardCharsets.UTF_8));
    return page;
  }

  /** The memfd names ("qpatch:NAME") of every object loaded in the target. */
  static java.util.Set<String> loadedNames(Target t) {
    java.util.Set<String> names = new java.util.TreeSet<>();
    for (var m : t.maps()) if (m.memfdName().startsWith("qpatch:")) names.add(m.memfdName());
    return names;
  }

  /** A relocation found in an object, with the name of its symbol and of the section it patches. */
  record Found(String section, Relocation relocation, String symbol) {
    long offset() {
      return relocation.offset();
    }

    long addend() {
      return relocation.addend();
    }
  }

  /**
   * The first relocation of {@code type} against {@code symbol} in a loaded section; fails
   * the test (with readelf's view) when the compiler did not emit it.
   */
  static Found relocation(Path object, int type, String symbol) {
    try (ElfFile elf = ElfFile.open(object)) {
      var symtab = elf.symtab().orElseThrow();
      for (RelocationSection rs : elf.relocationSections()) {
        if (rs.target() == null || !rs.target().isAlloc()) continue;
        for (Relocation r : rs.relocations()) {
          var sym = symtab.get(r.symbolIndex());
          String name = sym.type() == io.qpatch.elf.Symbol.STT_SECTION
              ? elf.section(sym.sectionIndex()).name() : sym.name();
          if (r.type() == type && name.equals(symbol)) {
            return new Found(rs.target().name(), r, name);
          }
        }
      }
    }
    String readelf = Fixtures.run(List.of("readelf", "-rW", object.toString()));
    assertTrue(false, "no " + RelocationType.name(type) + " against " + symbol + " in " + object
        + ":\n" + readelf);
    throw new AssertionError();
  }

  static long le(byte[] b, int bytes) {
    long v = 0;
    for (int i = bytes - 1; i >= 0; i--) v = (v << 8) | (b[i] & 0xff);
    return v;
  }

  /** The sign-extended 32-bit field at {@code address} of the plan. */
  static long field32(LinkPlan plan, long address) {
    return (int) le(plan.read(address, 4), 4);
  }

  static long field64(LinkPlan plan, long address) {
    return le(plan.read(address, 8), 8);
  }

}
