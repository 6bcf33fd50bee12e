package io.qpatch.dwarf;

import io.qpatch.error.BadInputException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A bounds-checked little-endian reader over one DWARF section. Every read that would pass
 * the end of the section is a {@link BadInputException} naming the file, the section and
 * the offset, so malformed DWARF never surfaces as an IndexOutOfBoundsException.
 */
final class Cursor {
  private static final ValueLayout.OfShort U16 =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfInt U32 =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong U64 =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private final DebugSection section;
  private final MemorySegment data;
  private long pos;

  Cursor(DebugSection section, long pos) {
    this.section = section;
    this.data = section.data();
    seek(pos);
  }

  long pos() {
    return pos;
  }

  long size() {
    return data.byteSize();
  }

  void seek(long offset) {
    if (offset < 0 || offset > data.byteSize()) {
      throw bad(String.format("offset 0x%x is outside the section (%d bytes)",
          offset, data.byteSize()));
    }
    pos = offset;
  }

  boolean atEnd() {
    return pos >= data.byteSize();
  }

  void skip(long n) {
    require(n);
    pos += n;
  }

  int u8() {
    require(1);
    return Byte.toUnsignedInt(data.get(ValueLayout.JAVA_BYTE, pos++));
  }

  int u16() {
    require(2);
    int v = Short.toUnsignedInt(data.get(U16, pos));
    pos += 2;
    return v;
  }

  int u24() {
    return u16() | (u8() << 16);
  }

  long u32() {
    require(4);
    long v = Integer.toUnsignedLong(data.get(U32, pos));
    pos += 4;
    return v;
  }

  long u64() {
    require(8);
    long v = data.get(U64, pos);
    pos += 8;
    return v;
  }

  /** An unsigned value of {@code size} bytes (1, 2, 4 or 8): addresses, offsets. */
  long unsigned(int size) {
    return switch (size) {
      case 1 -> u8();
      case 2 -> u16();
      case 4 -> u32();
      case 8 -> u64();
      default -> throw bad("unsupported field size " + size);
    };
  }

  /** ULEB128 (DWARF 5, 7.6); more than 64 significant bits is malformed. */
  long uleb() {
    long result = 0;
    for (int shift = 0; ; shift += 7) {
      int b = u8();
      if (shift >= 64 && (b & 0x7f) != 0) throw bad("LEB128 value wider than 64 bits");
      if (shift < 64) result |= (long) (b & 0x7f) << shift;
      if ((b & 0x80) == 0) return result;
    }
  }

  /** SLEB128 (DWARF 5, 7.6). */
  long sleb() {
    long result = 0;
    int shift = 0;
    int b;
    do {
      b = u8();
      if (shift < 64) result |= (long) (b & 0x7f) << shift;
      shift += 7;
    } while ((b & 0x80) != 0);
    if (shift < 64 && (b & 0x40) != 0) result |= -1L << shift;
    return result;
  }

  /** A NUL-terminated string, decoded as UTF-8. */
  String cstring() {
    long start = pos;
    long end = start;
    long size = data.byteSize();
    while (end < size && data.get(ValueLayout.JAVA_BYTE, end) != 0) end++;
    if (end >= size) throw bad(String.format("unterminated string at 0x%x", start));
    pos = end + 1;
    return stringAt(start, end);
  }

  /** Steps over a NUL-terminated string without decoding it. */
  void skipCString() {
    long size = data.byteSize();
    long end = pos;
    while (end < size && data.get(ValueLayout.JAVA_BYTE, end) != 0) end++;
    if (end >= size) throw bad(String.format("unterminated string at 0x%x", pos));
    pos = end + 1;
  }

  byte[] bytes(long n) {
    require(n);
    byte[] out = data.asSlice(pos, n).toArray(ValueLayout.JAVA_BYTE);
    pos += n;
    return out;
  }

  private String stringAt(long start, long end) {
    byte[] b = data.asSlice(start, end - start).toArray(ValueLayout.JAVA_BYTE);
    return new String(b, StandardCharsets.UTF_8);
  }

  private void require(long n) {
    if (n < 0 || n > data.byteSize() - pos) {
      throw bad(String.format("truncated: %s bytes at 0x%x run past the end of the section"
          + " (%d bytes)", Long.toUnsignedString(n), pos, data.byteSize()));
    }
  }

  BadInputException bad(String detail) {
    return section.bad(detail);
  }
}
