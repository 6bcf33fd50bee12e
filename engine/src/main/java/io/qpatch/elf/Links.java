package io.qpatch.elf;

import java.util.List;

/** Follows a section's sh_link / sh_info to another section, checking the index and type. */
final class Links {
  private Links() {}

  /** The section at {@code index}, which {@code owner}'s field {@code field} names. */
  static Section section(
      ElfReader r, List<Section> sections, Section owner, long index, String field) {
    if (index <= 0 || index >= sections.size()) {
      throw r.bad(String.format("%s: %s %d is not a valid section index (%d sections)",
          owner.label(), field, index, sections.size()));
    }
    return sections.get((int) index);
  }

  /** The string table {@code owner}'s sh_link names (symbol tables, version sections). */
  static StringTable stringTable(ElfReader r, List<Section> sections, Section owner) {
    Section strings = section(r, sections, owner, Integer.toUnsignedLong(owner.link()),
        "sh_link");
    if (strings.type() != Section.SHT_STRTAB) {
      throw r.bad(String.format("%s: sh_link %d names %s, which is not a string table",
          owner.label(), owner.link(), strings.label()));
    }
    return r.strings(strings.data());
  }

  /** The symbol table {@code owner}'s sh_link names (relocations, groups). */
  static Section symbolTable(ElfReader r, List<Section> sections, Section owner) {
    Section table = section(r, sections, owner, Integer.toUnsignedLong(owner.link()),
        "sh_link");
    if (table.type() != Section.SHT_SYMTAB && table.type() != Section.SHT_DYNSYM) {
      throw r.bad(String.format("%s: sh_link %d names %s, which is not a symbol table",
          owner.label(), owner.link(), table.label()));
    }
    return table;
  }
}
