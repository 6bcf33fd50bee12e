package io.qpatch.elf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses note entries from SHT_NOTE sections, or from PT_NOTE segments when the image has
 * no section headers (a module image read from memory).
 */
final class Notes {
  private static final int NHDR_SIZE = 12;  // sizeof(Elf64_Nhdr): namesz, descsz, type

  private Notes() {}

  static List<Note> read(ElfReader r, List<Section> sections, List<ProgramHeader> segments) {
    List<Note> notes = new ArrayList<>();
    boolean any = false;
    for (Section s : sections) {
      if (s.type() == Section.SHT_NOTE) {
        any = true;
        parse(r, s.label(), s.data(), s.addralign(), notes);
      }
    }
    if (!any) {
      for (ProgramHeader p : segments) {
        if (p.type() == ProgramHeader.PT_NOTE) {
          parse(r, "note segment [" + p.index() + "]", p.data(), p.align(), notes);
        }
      }
    }
    return List.copyOf(notes);
  }

  /**
   * The descriptor and the next note start at offsets aligned to 4, or to 8 in a section
   * or segment aligned to 8 (the .note.gnu.property layout); the same rule as binutils'
   * ELF_NOTE_DESC_OFFSET and ELF_NOTE_NEXT_OFFSET (include/elf/external.h).
   */
  private static void parse(
      ElfReader r, String where, MemorySegment d, long align, List<Note> out) {
    long pad = align == 8 ? 8 : 4;
    long size = d.byteSize();
    long at = 0;
    while (size - at >= NHDR_SIZE) {
      long nameSize = ElfReader.u32(d, at);
      long descSize = ElfReader.u32(d, at + 4);
      int type = (int) ElfReader.u32(d, at + 8);
      long descAt = roundUp(at + NHDR_SIZE + nameSize, pad);
      if (descAt + descSize > size) {
        throw r.bad(String.format("%s: note at +0x%x (name %d bytes, descriptor %d bytes)"
            + " ends past the end (%d bytes)", where, at, nameSize, descSize, size));
      }
      out.add(new Note(name(d, at + NHDR_SIZE, nameSize), type,
          d.asSlice(descAt, descSize).toArray(ValueLayout.JAVA_BYTE)));
      at = roundUp(descAt + descSize, pad);
    }
  }

  private static String name(MemorySegment d, long at, long size) {
    byte[] bytes = d.asSlice(at, size).toArray(ValueLayout.JAVA_BYTE);
    int length = bytes.length;
    while (length > 0 && bytes[length - 1] == 0) length--;
    return new String(bytes, 0, length, StandardCharsets.UTF_8);
  }

  private static long roundUp(long value, long pad) {
    return (value + pad - 1) & -pad;
  }
}
