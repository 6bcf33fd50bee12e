package io.qpatch.trace.go;

import io.qpatch.error.BadInputException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Go's function table ({@code .gopclntab}): every function's entry, end and name, which
 * the runtime needs for tracebacks and so keeps even in binaries stripped with
 * {@code -ldflags="-s -w"}. Layouts per {@link PclntabFormat}; the field positions follow
 * debug/gosym/pclntab.go ({@code parsePclnTab}, {@code funcTab}, {@code funcData}) and
 * runtime/symtab.go ({@code pcHeader}, {@code _func}). Every offset is bounds-checked.
 */
final class Pclntab {
  private static final ValueLayout.OfInt U32 =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong U64 =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  /** No Go program has this many functions; a larger count is corruption. */
  private static final long MAX_FUNCS = 1 << 24;

  private final String file;
  private final MemorySegment data;
  private final PclntabFormat format;

  private Pclntab(String file, MemorySegment data, PclntabFormat format) {
    this.file = file;
    this.data = data;
    this.format = format;
  }

  /** Checks the 8-byte header (magic, two zero bytes, pc quantum, pointer size). */
  static Pclntab open(String file, MemorySegment data) {
    if (data.byteSize() < 16) throw new BadInputException(file + ": .gopclntab is truncated");
    PclntabFormat format = PclntabFormat.of(data.get(U32, 0));
    int quantum = data.get(ValueLayout.JAVA_BYTE, 6);
    int ptrSize = data.get(ValueLayout.JAVA_BYTE, 7);
    if (format == null || data.get(ValueLayout.JAVA_BYTE, 4) != 0
        || data.get(ValueLayout.JAVA_BYTE, 5) != 0) {
      throw new BadInputException(String.format("%s: .gopclntab has an unknown magic 0x%08x",
          file, data.get(U32, 0)));
    }
    if (quantum != 1 || ptrSize != 8) {
      throw new BadInputException(String.format("%s: .gopclntab is for pc quantum %d, pointer"
          + " size %d: not an x86-64 Go binary", file, quantum, ptrSize));
    }
    return new Pclntab(file, data, format);
  }

  PclntabFormat format() {
    return format;
  }

  /** The text start recorded in a Go 1.18+ header (unrelocated in PIE files), else 0. */
  long headerTextStart() {
    return format.hasTextStart() ? word(2) : 0;
  }

  /** All functions in address order; {@code textStart} is runtime.text (Go 1.18+). */
  List<GoFunction> functions(long textStart) {
    Layout l = layout();
    long n = l.count;
    if (n < 0 || n > MAX_FUNCS) throw bad("function count " + Long.toUnsignedString(n));
    List<GoFunction> out = new ArrayList<>((int) n);
    long previous = Long.MIN_VALUE;
    for (int i = 0; i < n; i++) {
      long entry = pc(l, i, textStart);
      long end = pc(l, i + 1, textStart);
      if (Long.compareUnsigned(end, entry) < 0 || (i > 0 && entry < previous)) {
        throw bad(String.format("function %d: entries out of order (0x%x, end 0x%x)", i, entry,
            end));
      }
      previous = entry;
      long func = l.funcData + funcOff(l, i);
      out.add(new GoFunction(name(l, func), entry, end, flag(func)));
    }
    return out;
  }

  /** Where the tables are, per format. */
  private record Layout(long count, long functab, int fieldSize, long funcData, long names) {}

  private Layout layout() {
    return switch (format) {
      case GO12 -> new Layout(word(0), 16, 8, 0, 0);
      case GO116 -> new Layout(word(0), word(6), 8, word(6), word(2));
      case GO118, GO120 -> new Layout(word(0), word(7), 4, word(7), word(3));
    };
  }

  /** Header word {@code i} after the 8 fixed bytes. */
  private long word(int i) {
    return u64(8 + 8L * i, "header word " + i);
  }

  private long pc(Layout l, long i, long textStart) {
    long at = l.functab + 2 * i * l.fieldSize;
    return l.fieldSize == 4 ? textStart + u32(at, "functab entry " + i) : u64(at, "functab");
  }

  private long funcOff(Layout l, long i) {
    long at = l.functab + (2 * i + 1) * l.fieldSize;
    return l.fieldSize == 4 ? u32(at, "functab funcoff " + i) : u64(at, "functab funcoff " + i);
  }

  /** The _func at {@code func}: an entry (uintptr, or uint32 since 1.18), then nameOff. */
  private String name(Layout l, long func) {
    long nameOff = u32(func + (format.hasTextStart() ? 4 : 8), "_func.nameOff");
    return cstring(l.names + nameOff);
  }

  /**
   * The _func's flag byte, after funcID (runtime/runtime2.go, {@code type _func}): at 41 in
   * Go 1.16/1.17 (uintptr entry, 8 int32 fields), 37 in 1.18/1.19 (uint32 entry), 41 from
   * 1.20 (startLine added); Go 1.16 has padding there (0). None before 1.16.
   */
  private int flag(long func) {
    int at = switch (format) {
      case GO12 -> -1;
      case GO116, GO120 -> 41;
      case GO118 -> 37;
    };
    if (at < 0) return GoFunction.NO_FLAG;
    check(func + at, 1, "_func.flag");
    return data.get(ValueLayout.JAVA_BYTE, func + at) & 0xff;
  }

  private String cstring(long at) {
    check(at, 1, "function name");
    long end = at;
    long size = data.byteSize();
    while (end < size && data.get(ValueLayout.JAVA_BYTE, end) != 0) end++;
    if (end >= size) throw bad(String.format("function name at 0x%x is not terminated", at));
    byte[] b = data.asSlice(at, end - at).toArray(ValueLayout.JAVA_BYTE);
    return new String(b, StandardCharsets.UTF_8);
  }

  private long u32(long at, String what) {
    check(at, 4, what);
    return Integer.toUnsignedLong(data.get(U32, at));
  }

  private long u64(long at, String what) {
    check(at, 8, what);
    return data.get(U64, at);
  }

  private void check(long at, long length, String what) {
    if (at < 0 || at > data.byteSize() - length) {
      throw bad(String.format("%s at 0x%s lies outside the table (%d bytes)", what,
          Long.toHexString(at), data.byteSize()));
    }
  }

  private BadInputException bad(String detail) {
    return new BadInputException(file + ": .gopclntab: " + detail);
  }
}
