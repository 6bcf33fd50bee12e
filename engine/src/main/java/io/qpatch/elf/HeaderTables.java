package io.qpatch.elf;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the section header table and the program header table. Both are small (tens of
 * entries even for libc), so they are read eagerly and every entry's file range is checked
 * here, once; later code can take a section's data without re-checking.
 */
final class HeaderTables {
  private static final MemorySegment EMPTY = MemorySegment.ofArray(new byte[0]);

  private HeaderTables() {}

  static List<Section> sections(ElfReader r, ElfHeader h) {
    if (h.shnum() == 0) return List.of();
    long tableSize = r.multiply(h.shnum(), ElfHeader.SHDR_SIZE, "section header table");
    r.check(h.shoff(), tableSize, "section header table");
    int count = (int) h.shnum();  // fits: the table lies inside the image
    StringTable names = stringTable(r, h);
    List<Section> sections = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      sections.add(section(r, h.shoff() + (long) i * ElfHeader.SHDR_SIZE, i, names));
    }
    return List.copyOf(sections);
  }

  /** The section-name string table (e_shstrndx), or null when the file names no sections. */
  private static StringTable stringTable(ElfReader r, ElfHeader h) {
    int index = h.shstrndx();
    if (index == 0) return null;
    if (index < 0 || index >= h.shnum()) {
      throw r.bad(String.format("section name table index %d out of range (%d sections)",
          index, h.shnum()));
    }
    long at = h.shoff() + (long) index * ElfHeader.SHDR_SIZE;
    if (r.u32(at + 4, "sh_type") == Section.SHT_NOBITS) {
      throw r.bad("section name table [" + index + "] has no data (SHT_NOBITS)");
    }
    return r.strings(r.slice(r.u64(at + 24, "sh_offset"), r.u64(at + 32, "sh_size"),
        "section name table [" + index + "]"));
  }

  private static Section section(ElfReader r, long at, int index, StringTable names) {
    long nameOffset = r.u32(at, "sh_name");
    String name = names == null ? ""
        : names.get(nameOffset, () -> "section [" + index + "] name");
    int type = (int) r.u32(at + 4, "sh_type");
    long offset = r.u64(at + 24, "sh_offset");
    long size = r.u64(at + 32, "sh_size");
    MemorySegment data = EMPTY;
    if (type != Section.SHT_NOBITS && type != Section.SHT_NULL) {
      data = r.slice(offset, size, "section [" + index + "] " + name);
    }
    return new Section(index, name, type, r.u64(at + 8, "sh_flags"), r.u64(at + 16, "sh_addr"),
        offset, size, (int) r.u32(at + 40, "sh_link"), (int) r.u32(at + 44, "sh_info"),
        r.u64(at + 48, "sh_addralign"), r.u64(at + 56, "sh_entsize"), data);
  }

  static List<ProgramHeader> programHeaders(ElfReader r, ElfHeader h) {
    if (h.phnum() == 0) return List.of();
    long tableSize = r.multiply(h.phnum(), ElfHeader.PHDR_SIZE, "program header table");
    r.check(h.phoff(), tableSize, "program header table");
    List<ProgramHeader> headers = new ArrayList<>(h.phnum());
    for (int i = 0; i < h.phnum(); i++) {
      headers.add(programHeader(r, h.phoff() + (long) i * ElfHeader.PHDR_SIZE, i));
    }
    return List.copyOf(headers);
  }

  private static ProgramHeader programHeader(ElfReader r, long at, int index) {
    int type = (int) r.u32(at, "p_type");
    long offset = r.u64(at + 8, "p_offset");
    long filesz = r.u64(at + 32, "p_filesz");
    MemorySegment data = r.slice(offset, filesz, "segment [" + index + "]");
    return new ProgramHeader(index, type, (int) r.u32(at + 4, "p_flags"), offset,
        r.u64(at + 16, "p_vaddr"), r.u64(at + 24, "p_paddr"), filesz,
        r.u64(at + 40, "p_memsz"), r.u64(at + 48, "p_align"), data);
  }
}
