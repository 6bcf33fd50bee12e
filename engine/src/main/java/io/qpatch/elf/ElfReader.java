package io.qpatch.elf;

import io.qpatch.error.BadInputException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Bounds-checked little-endian reads from an ELF image. Every offset and length taken from
 * the file goes through here, so a corrupt file ends in a {@link BadInputException} that
 * names the file and the structure that did not fit, never in an
 * {@link IndexOutOfBoundsException}.
 */
final class ElfReader {
  private static final ValueLayout.OfShort U16 =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfInt U32 =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong U64 =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private final String name;
  private final MemorySegment image;

  ElfReader(String name, MemorySegment image) {
    this.name = name;
    this.image = image;
  }

  String name() {
    return name;
  }

  long size() {
    return image.byteSize();
  }

  /** A failure about this file: "NAME: DETAIL". */
  BadInputException bad(String detail) {
    return new BadInputException(name + ": " + detail);
  }

  /**
   * Checks that {@code length} bytes at {@code offset} lie inside the image. Offsets and
   * lengths are unsigned in the file; a negative long here means a value of 2^63 or more.
   */
  void check(long offset, long length, String what) {
    long size = image.byteSize();
    if (offset < 0 || length < 0 || offset > size || length > size - offset) {
      throw bad(String.format(
          "truncated: %s at 0x%x (%s bytes) ends past end of file (%d bytes)",
          what, offset, Long.toUnsignedString(length), size));
    }
  }

  /** The bytes [offset, offset+length) as a slice that shares the image's lifetime. */
  MemorySegment slice(long offset, long length, String what) {
    check(offset, length, what);
    return image.asSlice(offset, length);
  }

  int u8(long offset, String what) {
    check(offset, 1, what);
    return Byte.toUnsignedInt(image.get(ValueLayout.JAVA_BYTE, offset));
  }

  int u16(long offset, String what) {
    check(offset, 2, what);
    return Short.toUnsignedInt(image.get(U16, offset));
  }

  /** An unsigned 32-bit field widened to long. */
  long u32(long offset, String what) {
    check(offset, 4, what);
    return Integer.toUnsignedLong(image.get(U32, offset));
  }

  /** A 64-bit field; the caller decides whether it is signed. */
  long u64(long offset, String what) {
    check(offset, 8, what);
    return image.get(U64, offset);
  }

  /**
   * Checks that [offset, offset+length) lies inside {@code section}'s data, for structures
   * found inside a section (notes, version records, group members).
   */
  void checkIn(Section section, long offset, long length, String what) {
    long size = section.data().byteSize();
    if (offset < 0 || length < 0 || offset > size || length > size - offset) {
      throw bad(String.format("%s: %s at +0x%x (%d bytes) ends past the end of the section"
          + " (%d bytes)", section.label(), what, offset, length, size));
    }
  }

  static int u16(MemorySegment s, long offset) {
    return Short.toUnsignedInt(s.get(U16, offset));
  }

  static long u32(MemorySegment s, long offset) {
    return Integer.toUnsignedLong(s.get(U32, offset));
  }

  static long u64(MemorySegment s, long offset) {
    return s.get(U64, offset);
  }

  /** The string table in {@code data}, e.g. a section's bytes. */
  StringTable strings(MemorySegment data) {
    return new StringTable(this, data);
  }

  /** Checks {@code a * b} does not overflow a signed long; counts and sizes are unsigned. */
  long multiply(long a, long b, String what) {
    try {
      if (a < 0 || b < 0) throw new ArithmeticException();
      return Math.multiplyExact(a, b);
    } catch (ArithmeticException e) {
      throw bad(String.format("%s: size %s x %s overflows",
          what, Long.toUnsignedString(a), Long.toUnsignedString(b)));
    }
  }
}
