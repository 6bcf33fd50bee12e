package io.qpatch.elf;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * GNU symbol versioning for {@code .dynsym}: {@code .gnu.version} holds one 16-bit index per
 * symbol (bit 15 = hidden); {@code .gnu.version_d} defines the versions this object
 * provides and {@code .gnu.version_r} the ones it needs. Layouts: Elf64_Verdef,
 * Elf64_Verdaux, Elf64_Verneed, Elf64_Vernaux in /usr/include/elf.h; semantics in the LSB
 * "Symbol Versioning" chapter. Indexes 0 (local) and 1 (global, the base) carry no name.
 */
final class SymbolVersions {
  static final SymbolVersions NONE = new SymbolVersions(null, Map.of());

  private static final int HIDDEN = 0x8000;
  private static final int VERDEF_SIZE = 20;
  private static final int VERDAUX_SIZE = 8;
  private static final int VERNEED_SIZE = 16;
  private static final int VERNAUX_SIZE = 16;

  private final MemorySegment versym;
  private final Map<Integer, String> names;

  private SymbolVersions(MemorySegment versym, Map<Integer, String> names) {
    this.versym = versym;
    this.names = names;
  }

  String name(int symbol) {
    if (versym == null) return null;
    return names.get(ElfReader.u16(versym, symbol * 2L) & ~HIDDEN);
  }

  boolean hidden(int symbol) {
    return versym != null && (ElfReader.u16(versym, symbol * 2L) & HIDDEN) != 0;
  }

  static SymbolVersions read(ElfReader r, List<Section> sections, Section dynsym, int count) {
    Section versym = null;
    for (Section s : sections) {
      if (s.type() == Section.SHT_GNU_VERSYM && s.link() == dynsym.index()) versym = s;
    }
    if (versym == null) return NONE;
    if (versym.size() != count * 2L) {
      throw r.bad(String.format("%s: %d entries for %d symbols in %s",
          versym.label(), versym.size() / 2, count, dynsym.name()));
    }
    Map<Integer, String> names = new HashMap<>();
    for (Section s : sections) {
      if (s.type() == Section.SHT_GNU_VERDEF) definitions(r, sections, s, names);
      if (s.type() == Section.SHT_GNU_VERNEED) needs(r, sections, s, names);
    }
    checkAllNamed(r, versym, count, names);
    return new SymbolVersions(versym.data(), Map.copyOf(names));
  }

  private static void checkAllNamed(
      ElfReader r, Section versym, int count, Map<Integer, String> names) {
    for (int i = 0; i < count; i++) {
      int index = ElfReader.u16(versym.data(), i * 2L) & ~HIDDEN;
      if (index > 1 && !names.containsKey(index)) {
        throw r.bad(String.format("%s: symbol [%d] has version index %d, which no version"
            + " section defines", versym.label(), i, index));
      }
    }
  }

  /** Walks the Elf64_Verdef chain; each entry's first Verdaux names the version. */
  private static void definitions(
      ElfReader r, List<Section> sections, Section s, Map<Integer, String> names) {
    StringTable strings = Links.stringTable(r, sections, s);
    MemorySegment d = s.data();
    long at = 0;
    for (long n = 0; n < Integer.toUnsignedLong(s.info()) || s.info() == 0; n++) {
      r.checkIn(s, at, VERDEF_SIZE, "Elf64_Verdef");
      int index = ElfReader.u16(d, at + 4) & ~HIDDEN;
      long aux = at + ElfReader.u32(d, at + 12);
      r.checkIn(s, aux, VERDAUX_SIZE, "Elf64_Verdaux");
      names.put(index, strings.get(ElfReader.u32(d, aux),
          () -> s.label() + ": version definition " + index));
      long next = ElfReader.u32(d, at + 16);
      if (next == 0) break;
      at += next;
    }
  }

  /** Walks the Elf64_Verneed chain and, per needed file, its Elf64_Vernaux chain. */
  private static void needs(
      ElfReader r, List<Section> sections, Section s, Map<Integer, String> names) {
    StringTable strings = Links.stringTable(r, sections, s);
    MemorySegment d = s.data();
    long at = 0;
    for (long n = 0; n < Integer.toUnsignedLong(s.info()) || s.info() == 0; n++) {
      r.checkIn(s, at, VERNEED_SIZE, "Elf64_Verneed");
      long aux = at + ElfReader.u32(d, at + 8);
      for (int k = 0; k < ElfReader.u16(d, at + 2); k++) {
        r.checkIn(s, aux, VERNAUX_SIZE, "Elf64_Vernaux");
        int index = ElfReader.u16(d, aux + 6) & ~HIDDEN;
        names.put(index, strings.get(ElfReader.u32(d, aux + 8),
            () -> s.label() + ": needed version " + index));
        aux += ElfReader.u32(d, aux + 12);
      }
      long next = ElfReader.u32(d, at + 12);
      if (next == 0) break;
      at += next;
    }
  }
}
