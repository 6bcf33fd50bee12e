package io.qpatch.trace;

import io.qpatch.trace.go.GoParam;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Prints values as a Go or C programmer writes them: integers in decimal, floats the way
 * Go's %v does, strings quoted (at most {@link #MAX_STRING} bytes, then {@code ...}),
 * slices as {@code []int(len=2 cap=5)}, structs as {@code {X:1 Y:2}}, interfaces as
 * {@code nil} or their dynamic type, pointers in hex (Go's nil as {@code nil}).
 *
 * <p>Reads registers from the hit's sample ({@link SampleRegs}, floats from its X slots)
 * and memory through {@code memory}, which must answer as the target's memory was at the
 * probe: the live memory of a thread stopped there, or what the backend captured.
 */
final class ValueFormat {
  static final int MAX_STRING = 64;
  private static final int MAX_ELEMENTS = 8;
  private final long[] regs;
  private final TargetMemory memory;
  private final Map<Long, String> typeNames;

  /** @param typeNames Go runtime type descriptors' run-time addresses to type names */
  ValueFormat(long[] regs, TargetMemory memory, Map<Long, String> typeNames) {
    this.regs = regs;
    this.memory = memory;
    this.typeNames = typeNames;
  }

  /** {@code a=1, s="hi"}. */
  String format(List<ValueSpec> values) {
    StringBuilder sb = new StringBuilder();
    for (ValueSpec v : values) {
      if (!sb.isEmpty()) sb.append(", ");
      sb.append(v.name()).append('=').append(value(v));
    }
    return sb.toString();
  }

  String value(ValueSpec v) {
    GoParam.Location at = v.location();
    try {
      return switch (at.where()) {
        case EMPTY -> "{}";
        case UNKNOWN -> "?";
        case STACK -> fromMemory(v.shape(), regs[SampleRegs.SP] + at.stackOffset());
        case REGISTERS -> v.packed() ? fromBytes(v.shape(), packedBytes(at.slots()), 0)
            : fromLeaves(v.shape(), at.slots().iterator());
      };
    } catch (RuntimeException e) { // memory that could not be read, registers that ran out
      return "?";
    }
  }

  // ---- one register per leaf (Go) -------------------------------------------------------

  private String fromLeaves(ValueShape shape, Iterator<GoParam.Slot> slots) {
    return switch (shape) {
      case ValueShape.Str s -> string(word(slots.next()), word(slots.next()));
      case ValueShape.Slice s -> slice(s, word(slots.next()), word(slots.next()), word(slots.next()));
      case ValueShape.Iface i -> iface(i, word(slots.next()));
      case ValueShape.Complex c -> "(" + floating(word(slots.next()), c.size() / 2) + "+"
          + floating(word(slots.next()), c.size() / 2) + "i)";
      case ValueShape.Struct s -> {
        StringBuilder sb = new StringBuilder("{");
        for (ValueShape.Field f : s.fields()) {
          if (sb.length() > 1) sb.append(' ');
          sb.append(f.name()).append(':').append(fromLeaves(f.shape(), slots));
        }
        yield sb.append('}').toString();
      }
      case ValueShape.Array a -> a.count() == 0 ? "[]" : "[" + fromLeaves(a.element(), slots) + "]";
      default -> scalar(shape, word(slots.next()));
    };
  }

  /** A slot's register: an integer one, or an X register's low 64 bits. */
  private long word(GoParam.Slot slot) {
    return regs[slotOf(slot.register())];
  }

  /** "RAX".."R15", "RDI", "X0".."X15" to a {@link SampleRegs} slot. */
  static int slotOf(String register) {
    if (register.startsWith("X")) return SampleRegs.X0 + Integer.parseInt(register.substring(1));
    return switch (register) {
      case "RAX" -> SampleRegs.AX;
      case "RBX" -> SampleRegs.BX;
      case "RCX" -> SampleRegs.CX;
      case "RDX" -> SampleRegs.DX;
      case "RDI" -> SampleRegs.DI;
      case "RSI" -> SampleRegs.SI;
      case "R8" -> SampleRegs.R8;
      case "R9" -> SampleRegs.R9;
      case "R10" -> SampleRegs.R10;
      case "R11" -> SampleRegs.R11;
      default -> throw new IllegalArgumentException("not an argument register: " + register);
    };
  }

  // ---- bytes (memory, SysV eightbytes) ----------------------------------------------------

  private byte[] packedBytes(List<GoParam.Slot> slots) {
    byte[] b = new byte[8 * slots.size()];
    for (int i = 0; i < slots.size(); i++) putLong(b, 8 * i, word(slots.get(i)));
    return b;
  }

  private String fromMemory(ValueShape shape, long address) {
    return fromBytes(shape, memory.read(address, (int) Math.max(1, Math.min(shape.size(), 4096))), 0);
  }

  private String fromBytes(ValueShape shape, byte[] b, int at) {
    return switch (shape) {
      case ValueShape.Str s -> string(getLong(b, at), getLong(b, at + 8));
      case ValueShape.Slice s -> slice(s, getLong(b, at), getLong(b, at + 8), getLong(b, at + 16));
      case ValueShape.Iface i -> iface(i, getLong(b, at));
      case ValueShape.Complex c -> "(" + floating(getLong(b, at), c.size() / 2) + "+"
          + floating(getLong(b, at + (int) c.size() / 2), c.size() / 2) + "i)";
      case ValueShape.Struct s -> {
        StringBuilder sb = new StringBuilder("{");
        for (ValueShape.Field f : s.fields()) {
          if (sb.length() > 1) sb.append(' ');
          sb.append(f.name()).append(':').append(fromBytes(f.shape(), b, at + (int) f.offset()));
        }
        yield sb.append('}').toString();
      }
      case ValueShape.Array a -> array(a, b, at);
      default -> scalar(shape, getLong(b, at));
    };
  }

  private String array(ValueShape.Array a, byte[] b, int at) {
    StringBuilder sb = new StringBuilder("[");
    long stride = a.count() == 0 ? 0 : a.size() / a.count();
    for (int i = 0; i < Math.min(a.count(), MAX_ELEMENTS); i++) {
      if (i > 0) sb.append(' ');
      sb.append(fromBytes(a.element(), b, at + (int) (i * stride)));
    }
    if (a.count() > MAX_ELEMENTS) sb.append(" ...");
    return sb.append(']').toString();
  }

  // ---- leaves ---------------------------------------------------------------------------

  private String scalar(ValueShape shape, long raw) {
    return switch (shape) {
      case ValueShape.Bool b -> (raw & 0xff) != 0 ? "true" : "false";
      case ValueShape.Int i -> integer(raw, i.size(), i.signed());
      case ValueShape.Float f -> floating(raw, f.size());
      case ValueShape.Ptr p -> p.go() && raw == 0 ? "nil" : "0x" + Long.toHexString(raw);
      case ValueShape.CStr c -> cString(raw);
      default -> "?";
    };
  }

  static String integer(long raw, long size, boolean signed) {
    if (size >= 8 || size <= 0) return signed ? Long.toString(raw) : Long.toUnsignedString(raw);
    int shift = 64 - 8 * (int) size;
    return Long.toString(signed ? (raw << shift) >> shift : (raw << shift) >>> shift);
  }

  /**
   * Go's %v of a float: the shortest digits that read back the same value, in %e form
   * when the exponent is below -4 or at least 21 (fmt/format.go, fmtFloat).
   */
  static String floating(long raw, long size) {
    double d = size == 4 ? Float.intBitsToFloat((int) raw) : Double.longBitsToDouble(raw);
    if (Double.isNaN(d)) return "NaN";
    if (Double.isInfinite(d)) return d > 0 ? "+Inf" : "-Inf";
    if (d == 0) return (1 / d < 0) ? "-0" : "0";
    String shortest = size == 4 ? Float.toString((float) d) : Double.toString(d);
    BigDecimal v = new BigDecimal(shortest).stripTrailingZeros();
    int exponent = v.precision() - v.scale() - 1;
    if (exponent >= -4 && exponent < 21) return v.toPlainString();
    String digits = v.unscaledValue().abs().toString();
    String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
    return (v.signum() < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+")
        + (Math.abs(exponent) < 10 ? "0" : "") + Math.abs(exponent);
  }

  private String string(long ptr, long len) {
    if (len == 0) return "\"\"";
    if (len < 0 || ptr == 0) return "?";
    return quoted(memory.read(ptr, (int) Math.min(len, MAX_STRING)), len > MAX_STRING);
  }

  private String cString(long ptr) {
    if (ptr == 0) return "NULL";
    byte[] b = readUpTo(ptr, MAX_STRING);
    int n = 0;
    while (n < b.length && b[n] != 0) n++;
    return quoted(b, n, n == MAX_STRING); // no NUL in the first 64: cut
  }

  /** Up to {@code max} bytes at {@code ptr}, fewer when the page after it is unmapped. */
  private byte[] readUpTo(long ptr, int max) {
    try {
      return memory.read(ptr, max);
    } catch (RuntimeException e) {
      int toPageEnd = (int) (io.qpatch.sys.Mman.PAGE - (ptr & (io.qpatch.sys.Mman.PAGE - 1)));
      if (toPageEnd >= max) throw e;
      return memory.read(ptr, toPageEnd);
    }
  }

  private static String quoted(byte[] bytes, boolean cut) {
    return quoted(bytes, bytes.length, cut);
  }

  /**
   * The first {@code n} bytes quoted as Go's %q would show printable ASCII; anything else
   * decoded as UTF-8 and escaped by {@link Json#quote}. Plain ASCII, the common case, is
   * one copy (this runs for every string of every traced call).
   */
  static String quoted(byte[] bytes, int n, boolean cut) {
    String tail = cut ? "\"..." : "\"";
    if (plainAscii(bytes, n)) return "\"" + new String(bytes, 0, n, StandardCharsets.ISO_8859_1) + tail;
    StringBuilder q = new StringBuilder(n + 8);
    Json.quote(q, new String(bytes, 0, n, StandardCharsets.UTF_8));
    return cut ? q + "..." : q.toString();
  }

  /** Printable ASCII without a quote or backslash: nothing to escape. */
  private static boolean plainAscii(byte[] b, int n) {
    for (int i = 0; i < n; i++) {
      int c = b[i];
      if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') return false; // bytes >= 0x80 are negative
    }
    return true;
  }

  private static String slice(ValueShape.Slice s, long ptr, long len, long cap) {
    return "[]" + s.element() + "(len=" + len + " cap=" + cap + ")";
  }

  /**
   * nil, or the dynamic type's name: an empty interface's first word is its runtime._type,
   * a non-empty one's an itab whose _type is its second word (runtime/runtime2.go, itab).
   */
  private String iface(ValueShape.Iface i, long first) {
    if (first == 0) return "nil";
    long type = i.empty() ? first : memory.read8(first + 8);
    String name = typeNames.get(type);
    return name != null ? name : "(type 0x" + Long.toHexString(type) + ")";
  }

  /** The little-endian word at {@code b[at]}, bytes past the end read as 0. */
  static long getLong(byte[] b, int at) {
    long v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | (at + i < b.length ? b[at + i] & 0xff : 0);
    return v;
  }

  private static void putLong(byte[] b, int at, long v) {
    for (int i = 0; i < 8; i++) b[at + i] = (byte) (v >>> (8 * i));
  }
}
