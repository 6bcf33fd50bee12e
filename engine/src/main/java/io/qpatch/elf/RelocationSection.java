package io.qpatch.elf;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * An {@code SHT_RELA} section: its entries, the section sh_info names ({@code target}; null
 * when sh_info is 0, as for .rela.dyn) and the symbol table sh_link names ({@code symbols};
 * null when sh_link is 0). In a relocatable file offsets are relative to {@code target};
 * in an executable or shared object they are virtual addresses. Every symbol index is
 * checked against the symbol table, and in a relocatable file every offset, with the width
 * its type writes, against the target section.
 */
public record RelocationSection(
    Section section, Section target, Section symbols, List<Relocation> relocations) {

  static final int RELA_SIZE = 24;  // sizeof(Elf64_Rela)

  static RelocationSection read(
      ElfReader r, ElfFile elf, List<Section> sections, Section s) {
    int count = SymbolTable.entryCount(r, s, RELA_SIZE, "Elf64_Rela");
    Section symbols = s.link() == 0 ? null : Links.symbolTable(r, sections, s);
    int symbolCount = symbols == null ? 0 : elf.symbolTable(symbols).size();
    Section target = s.info() == 0 ? null
        : Links.section(r, sections, s, Integer.toUnsignedLong(s.info()), "sh_info");
    boolean checkOffsets = elf.header().type() == ElfType.REL && target != null;
    MemorySegment d = s.data();
    List<Relocation> entries = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      long at = (long) i * RELA_SIZE;
      long info = ElfReader.u64(d, at + 8);
      Relocation rel = new Relocation(ElfReader.u64(d, at), (int) info, (int) (info >>> 32),
          ElfReader.u64(d, at + 16));
      checkSymbol(r, s, i, rel, symbolCount);
      if (checkOffsets) checkOffset(r, s, i, rel, target);
      entries.add(rel);
    }
    return new RelocationSection(s, target, symbols, List.copyOf(entries));
  }

  private static void checkSymbol(ElfReader r, Section s, int i, Relocation rel, int count) {
    if (Integer.toUnsignedLong(rel.symbolIndex()) >= Math.max(count, 1)) {
      throw r.bad(String.format("%s: relocation [%d] (%s) refers to symbol %d, the symbol"
              + " table has %d", s.label(), i, rel.typeName(),
          Integer.toUnsignedLong(rel.symbolIndex()), count));
    }
  }

  private static void checkOffset(
      ElfReader r, Section s, int i, Relocation rel, Section target) {
    long width = RelocationType.width(rel.type());
    long size = target.size();
    if (rel.offset() < 0 || rel.offset() > size || width > size - rel.offset()) {
      throw r.bad(String.format("%s: relocation [%d] (%s) at offset 0x%x (%d bytes) lies"
              + " outside %s (%d bytes)", s.label(), i, rel.typeName(), rel.offset(), width,
          target.name(), size));
    }
  }
}
