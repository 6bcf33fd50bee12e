package io.qpatch.trace.go;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.Section;
import io.qpatch.error.BadInputException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Comparator;
import java.util.List;

/**
 * Reads the file's bytes by link-time virtual address, through the allocated sections
 * that have file data. Every read is bounds-checked against one section: a pointer in
 * .go.buildinfo that leads nowhere is a {@link BadInputException}, not a crash.
 */
final class Image {
  private static final ValueLayout.OfLong U64 =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private final ElfFile elf;
  private final List<Section> mapped;

  Image(ElfFile elf) {
    this.elf = elf;
    this.mapped = elf.sections().stream()
        .filter(s -> s.isAlloc() && s.hasData() && s.size() > 0)
        .sorted(Comparator.comparingLong(Section::addr)).toList();
  }

  String name() {
    return elf.name();
  }

  BadInputException bad(String detail) {
    return new BadInputException(elf.name() + ": " + detail);
  }

  /** {@code length} bytes at virtual address {@code va}, all inside one section. */
  byte[] read(long va, long length, String what) {
    Section s = sectionAt(va, what);
    long off = va - s.addr();
    long size = s.data().byteSize();
    if (length < 0 || length > size - off) {
      throw bad(String.format("%s: %d bytes at 0x%x run past the end of %s", what, length, va,
          s.name()));
    }
    return s.data().asSlice(off, length).toArray(ValueLayout.JAVA_BYTE);
  }

  long u64(long va, String what) {
    return MemorySegment.ofArray(read(va, 8, what)).get(U64, 0);
  }

  private Section sectionAt(long va, String what) {
    for (Section s : mapped) {
      if (Long.compareUnsigned(va, s.addr()) >= 0
          && Long.compareUnsigned(va - s.addr(), s.data().byteSize()) < 0) {
        return s;
      }
    }
    throw bad(String.format("%s: address 0x%x is not in any section with file data", what, va));
  }
}
