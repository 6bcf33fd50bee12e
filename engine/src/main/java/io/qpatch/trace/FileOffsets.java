package io.qpatch.trace;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.ProgramHeader;

/** Link-time addresses to offsets in the file, through the PT_LOAD segments (uprobes take offsets). */
final class FileOffsets {
  private FileOffsets() {}

  /** The file offset of {@code vaddr}, or -1 when no segment's file bytes hold it. */
  static long of(ElfFile elf, long vaddr) {
    for (ProgramHeader p : elf.programHeaders()) {
      if (p.isLoad() && vaddr >= p.vaddr() && vaddr < p.vaddr() + p.filesz()) {
        return p.offset() + (vaddr - p.vaddr());
      }
    }
    return -1;
  }
}
