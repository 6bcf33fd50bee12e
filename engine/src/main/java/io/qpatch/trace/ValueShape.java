package io.qpatch.trace;

import io.qpatch.dwarf.DwarfMember;
import io.qpatch.dwarf.DwarfType;
import io.qpatch.dwarf.Encoding;
import io.qpatch.dwarf.GoKind;
import java.util.ArrayList;
import java.util.List;

/**
 * What a decoded value looks like, copied out of DWARF at plan time (the ELF file is
 * closed once the probes are planted): enough to print it from registers or memory.
 */
sealed interface ValueShape {
  /** Bytes it takes in memory. */
  long size();

  record Int(long size, boolean signed) implements ValueShape {}

  record Bool() implements ValueShape {
    public long size() {
      return 1;
    }
  }

  record Float(long size) implements ValueShape {}

  /** Go's complex64/complex128: two floats. */
  record Complex(long size) implements ValueShape {}

  /** A pointer; Go's pointers, maps, chans and funcs print {@code nil} when 0. */
  record Ptr(long size, boolean go) implements ValueShape {}

  /** A Go string: pointer and length (runtime/string.go, stringStruct). */
  record Str() implements ValueShape {
    public long size() {
      return 16;
    }
  }

  /** A Go slice: pointer, length, capacity (runtime/slice.go). */
  record Slice(String element) implements ValueShape {
    public long size() {
      return 24;
    }
  }

  /**
   * A Go interface: the dynamic type (empty interface, runtime/runtime2.go eface) or an
   * itab whose second word is it (iface, itab._type), then the data word.
   */
  record Iface(boolean empty) implements ValueShape {
    public long size() {
      return 16;
    }
  }

  record Field(String name, long offset, ValueShape shape) {}

  record Struct(List<Field> fields, long size) implements ValueShape {}

  record Array(ValueShape element, long count, long size) implements ValueShape {}

  /** A C {@code char *}: printed as the string it points to. */
  record CStr() implements ValueShape {
    public long size() {
      return 8;
    }
  }

  /** Not understood: printed as {@code ?}. */
  record Opaque(long size) implements ValueShape {}

  /** Members beyond this, or nesting deeper, print as {@code ?} (a struct is cut short). */
  int MAX_FIELDS = 16;
  int MAX_DEPTH = 4;

  /** The shape of a Go type ({@code go}) or a C/C++ one. */
  static ValueShape of(DwarfType type, boolean go) {
    return of(type, go, 0);
  }

  private static ValueShape of(DwarfType type, boolean go, int depth) {
    DwarfType t = type.resolved();
    long size = t.size();
    if (depth > MAX_DEPTH) return new Opaque(size);
    GoKind kind = go ? goKind(type) : GoKind.INVALID;
    if (kind != GoKind.INVALID) return ofGo(kind, type, t, depth);
    return switch (t.kind()) {
      case BASE -> base(t.encoding(), size);
      case POINTER, REFERENCE -> isChar(t.target()) ? new CStr() : new Ptr(8, go);
      case ENUM -> new Int(size, true);
      case STRUCT, CLASS -> struct(t, go, depth);
      case ARRAY -> t.count() < 0 ? new Opaque(size) : new Array(of(t.target(), go, depth + 1), t.count(), size);
      default -> new Opaque(size);
    };
  }

  /** Go's kind, from the first of the typedefs down to the type that says it. */
  private static GoKind goKind(DwarfType type) {
    DwarfType t = type;
    for (int i = 0; i < 16 && t != null; i++) {
      if (t.goKind() != GoKind.INVALID) return t.goKind();
      if (t.kind() != DwarfType.Kind.TYPEDEF && t.kind() != DwarfType.Kind.QUALIFIER) break;
      t = t.target();
    }
    return GoKind.INVALID;
  }

  private static ValueShape ofGo(GoKind kind, DwarfType named, DwarfType t, int depth) {
    long size = t.size();
    return switch (kind) {
      case BOOL -> new Bool();
      case INT, INT8, INT16, INT32, INT64 -> new Int(size, true);
      case UINT, UINT8, UINT16, UINT32, UINT64, UINTPTR -> new Int(size, false);
      case FLOAT32, FLOAT64 -> new Float(size);
      case COMPLEX64, COMPLEX128 -> new Complex(size);
      case STRING -> new Str();
      case SLICE -> new Slice(elementName(named.name() != null && named.name().startsWith("[]") ? named.name() : t.name()));
      case INTERFACE -> new Iface(t.member("_type").isPresent());
      case POINTER, UNSAFE_POINTER, MAP, CHAN, FUNC -> new Ptr(8, true);
      case STRUCT -> struct(t, true, depth);
      case ARRAY -> t.count() < 0 ? new Opaque(size) : new Array(of(t.target(), true, depth + 1), t.count(), size);
      case INVALID -> new Opaque(size);
    };
  }

  private static String elementName(String slice) {
    return slice != null && slice.startsWith("[]") ? slice.substring(2) : "?";
  }

  private static ValueShape base(Encoding e, long size) {
    if (e == Encoding.BOOLEAN) return new Bool();
    if (e == Encoding.FLOAT && size <= 8) return new Float(size);
    if (e.isInteger()) return new Int(size, e.isSigned());
    return new Opaque(size);
  }

  private static boolean isChar(DwarfType target) {
    DwarfType c = target.resolved();
    return c.kind() == DwarfType.Kind.BASE && c.size() == 1
        && (c.encoding() == Encoding.SIGNED_CHAR || c.encoding() == Encoding.UNSIGNED_CHAR);
  }

  private static ValueShape struct(DwarfType t, boolean go, int depth) {
    List<Field> fields = new ArrayList<>();
    for (DwarfMember m : t.members()) {
      if (fields.size() == MAX_FIELDS || m.offset() < 0) break;
      fields.add(new Field(m.name() == null ? "?" : m.name(), m.offset(), of(m.type(), go, depth + 1)));
    }
    return new Struct(fields, t.size());
  }
}
