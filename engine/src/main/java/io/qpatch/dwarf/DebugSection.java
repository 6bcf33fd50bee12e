package io.qpatch.dwarf;

import io.qpatch.error.BadInputException;
import java.lang.foreign.MemorySegment;

/** One DWARF section's bytes, already decompressed, and the names messages use for it. */
record DebugSection(String file, String name, MemorySegment data) {
  BadInputException bad(String detail) {
    return new BadInputException(file + ": " + name + ": " + detail);
  }

  /** A NUL-terminated string at {@code offset} (for .debug_str and .debug_line_str). */
  String stringAt(long offset) {
    return new Cursor(this, offset).cstring();
  }
}
