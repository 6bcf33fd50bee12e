package io.qpatch.elf;

import java.util.ArrayList;
import java.util.List;

/**
 * An {@code SHT_GROUP} section (gABI "Section Groups"): a flag word (GRP_COMDAT) and the
 * indexes of its member sections. {@code signature} is the name of the symbol sh_info
 * selects in the sh_link symbol table; the linker keeps one group per signature, which is
 * how C++ inline functions and template instances defined in many objects end up once.
 */
public record ComdatGroup(Section section, String signature, int flags, List<Integer> members) {
  public static final int GRP_COMDAT = 0x1;

  public boolean isComdat() {
    return (flags & GRP_COMDAT) != 0;
  }

  static ComdatGroup read(ElfReader r, ElfFile elf, List<Section> sections, Section s) {
    int words = SymbolTable.entryCount(r, s, 4, "Elf32_Word");
    if (words == 0) throw r.bad(s.label() + ": empty group, the flag word is missing");
    SymbolTable symbols = elf.symbolTable(Links.symbolTable(r, sections, s));
    long signatureIndex = Integer.toUnsignedLong(s.info());
    if (signatureIndex >= symbols.size()) {
      throw r.bad(String.format("%s: signature symbol %d out of range (%d symbols)",
          s.label(), signatureIndex, symbols.size()));
    }
    List<Integer> members = new ArrayList<>(words - 1);
    for (int i = 1; i < words; i++) {
      long member = ElfReader.u32(s.data(), i * 4L);
      members.add(Links.section(r, sections, s, member, "member " + i).index());
    }
    return new ComdatGroup(s, symbols.get((int) signatureIndex).name(),
        (int) ElfReader.u32(s.data(), 0), List.copyOf(members));
  }
}
