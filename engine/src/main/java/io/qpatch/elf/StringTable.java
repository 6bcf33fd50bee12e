package io.qpatch.elf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * A string table's bytes (SHT_STRTAB: NUL-terminated strings addressed by offset), copied
 * once into a Java array: reading thousands of symbol names from it is then a plain array
 * scan rather than one bounds-checked segment access per byte.
 */
final class StringTable {
  private final ElfReader reader;
  private final byte[] bytes;

  StringTable(ElfReader reader, MemorySegment data) {
    this.reader = reader;
    this.bytes = data.toArray(ValueLayout.JAVA_BYTE);
  }

  /** The string at {@code offset}; {@code what} names the field, built only on failure. */
  String get(long offset, Supplier<String> what) {
    if (offset < 0 || offset >= bytes.length) {
      throw reader.bad(String.format("%s: string offset 0x%x outside the string table"
          + " (%d bytes)", what.get(), offset, bytes.length));
    }
    int start = (int) offset;
    int end = start;
    while (end < bytes.length && bytes[end] != 0) end++;
    if (end == bytes.length) {
      throw reader.bad(String.format("%s: string at 0x%x is not NUL-terminated",
          what.get(), offset));
    }
    return new String(bytes, start, end - start, StandardCharsets.UTF_8);
  }
}
