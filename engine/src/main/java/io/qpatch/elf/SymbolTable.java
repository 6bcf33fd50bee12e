package io.qpatch.elf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The symbols of one {@code SHT_SYMTAB} or {@code SHT_DYNSYM} section, parsed on first use
 * of the table and then kept. Index 0 is the reserved null symbol (gABI "Symbol Table").
 */
public final class SymbolTable {
  static final int SYM_SIZE = 24;  // sizeof(Elf64_Sym)

  private final Section section;
  private final List<Symbol> symbols;
  private Map<String, List<Symbol>> byName;

  private SymbolTable(Section section, List<Symbol> symbols) {
    this.section = section;
    this.symbols = symbols;
  }

  /** The table in {@code section}; checks its entry size, string table and every entry. */
  static SymbolTable read(ElfReader r, List<Section> sections, Section section) {
    int count = entryCount(r, section, SYM_SIZE, "Elf64_Sym");
    StringTable strings = Links.stringTable(r, sections, section);
    MemorySegment xindex = count > 0 ? extendedIndexes(r, sections, section, count) : null;
    SymbolVersions versions = section.type() == Section.SHT_DYNSYM
        ? SymbolVersions.read(r, sections, section, count) : SymbolVersions.NONE;
    List<Symbol> symbols = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      symbols.add(entry(r, sections.size(), section, strings, xindex, versions, i));
    }
    return new SymbolTable(section, List.copyOf(symbols));
  }

  /** Checks sh_entsize and that sh_size is a whole number of entries; returns the count. */
  static int entryCount(ElfReader r, Section s, int entrySize, String structName) {
    if (s.entsize() != entrySize) {
      throw r.bad(String.format("%s: entry size %d, expected %d (%s)",
          s.label(), s.entsize(), entrySize, structName));
    }
    if (s.size() % entrySize != 0) {
      throw r.bad(String.format("%s: size %d is not a multiple of the entry size %d",
          s.label(), s.size(), entrySize));
    }
    return Math.toIntExact(s.size() / entrySize);  // the data lies in the image, so it fits
  }

  private static Symbol entry(ElfReader r, int sectionCount, Section table,
      StringTable strings, MemorySegment xindex, SymbolVersions versions, int i) {
    MemorySegment d = table.data();
    long at = (long) i * SYM_SIZE;
    String name = strings.get(ElfReader.u32(d, at),
        () -> table.label() + ": symbol [" + i + "] name");
    int info = Byte.toUnsignedInt(d.get(ValueLayout.JAVA_BYTE, at + 4));
    int other = Byte.toUnsignedInt(d.get(ValueLayout.JAVA_BYTE, at + 5));
    int shndx = sectionIndex(r, sectionCount, table, xindex, i, name);
    return new Symbol(i, name, ElfReader.u64(d, at + 8), ElfReader.u64(d, at + 16),
        info & 0xf, info >>> 4, other & 0x3, shndx, versions.name(i), versions.hidden(i));
  }

  /** st_shndx, through the SHT_SYMTAB_SHNDX table when it says SHN_XINDEX; checked. */
  private static int sectionIndex(ElfReader r, int sectionCount, Section table,
      MemorySegment xindex, int i, String name) {
    int raw = ElfReader.u16(table.data(), (long) i * SYM_SIZE + 6);
    long index = raw;
    if (raw == Symbol.SHN_XINDEX && xindex != null) {
      index = ElfReader.u32(xindex, (long) i * 4);
    } else if (raw >= Symbol.SHN_LORESERVE) {
      return raw;
    }
    if (index >= sectionCount) {
      throw r.bad(String.format("%s: symbol [%d] '%s' has section index %d, the file has %d"
          + " sections", table.label(), i, name, index, sectionCount));
    }
    return (int) index;
  }

  /** The SHT_SYMTAB_SHNDX section for {@code table} (gABI "Extended Section Indexes"). */
  private static MemorySegment extendedIndexes(
      ElfReader r, List<Section> sections, Section table, int count) {
    for (Section s : sections) {
      if (s.type() == Section.SHT_SYMTAB_SHNDX && s.link() == table.index()) {
        if (s.size() != (long) count * 4) {
          throw r.bad(String.format("%s: %d entries for %d symbols in %s",
              s.label(), s.size() / 4, count, table.name()));
        }
        return s.data();
      }
    }
    return null;
  }

  public Section section() {
    return section;
  }

  /** Number of entries, including the null symbol at index 0. */
  public int size() {
    return symbols.size();
  }

  public Symbol get(int index) {
    return symbols.get(Objects.checkIndex(index, symbols.size()));
  }

  public List<Symbol> symbols() {
    return symbols;
  }

  /** Index of the first non-local symbol: sh_info of the table (gABI "sh_info"). */
  public int firstNonLocal() {
    return section.info();
  }

  /** Every entry whose name is exactly {@code name} (a name, not "name@version"). */
  public synchronized List<Symbol> named(String name) {
    if (byName == null) {
      Map<String, List<Symbol>> map = new HashMap<>(symbols.size() * 2);
      for (Symbol s : symbols) {
        if (!s.name().isEmpty()) map.computeIfAbsent(s.name(), k -> new ArrayList<>(1)).add(s);
      }
      byName = map;
    }
    return List.copyOf(byName.getOrDefault(name, List.of()));
  }

  @Override
  public String toString() {
    return section.name() + " (" + symbols.size() + " symbols)";
  }
}
