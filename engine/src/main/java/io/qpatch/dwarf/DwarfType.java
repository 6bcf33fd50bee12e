package io.qpatch.dwarf;

import java.util.List;
import java.util.Optional;

/**
 * A type described by DWARF. Targets (what a pointer, typedef or array refers to) and
 * members are read on first use, so a type graph with cycles (a list node pointing to
 * itself) costs nothing until walked, and walking it never recurses deeply.
 *
 * <p>Go types carry their reflect kind ({@link #goKind()}); Go's string, slice and
 * interface types are structs whose members are the words the ABI passes (see
 * runtime/string.go {@code stringStruct}, runtime/slice.go {@code slice}, runtime/iface.go).
 */
public final class DwarfType {
  /** Longer chains of typedefs, qualifiers and pointers than any compiler writes. */
  private static final int MAX_DEPTH = 64;

  /** What the DIE describes; const/volatile/restrict/atomic qualifiers are QUALIFIER. */
  public enum Kind {
    BASE, POINTER, REFERENCE, STRUCT, UNION, CLASS, TYPEDEF, ARRAY, ENUM, QUALIFIER,
    FUNCTION, VOID, UNKNOWN
  }

  private final TypeBuilder builder;
  private final long offset;
  private final Kind kind;
  private final String name;
  private final long size;
  private final Encoding encoding;
  private final GoKind goKind;
  private final long targetOffset;
  private final long count;
  private final String qualifier;
  private DwarfType target;
  private List<DwarfMember> members;

  DwarfType(TypeBuilder builder, long offset, Kind kind, String name, long size,
      Encoding encoding, GoKind goKind, long targetOffset, long count, String qualifier) {
    this.builder = builder;
    this.offset = offset;
    this.kind = kind;
    this.name = name;
    this.size = size;
    this.encoding = encoding;
    this.goKind = goKind;
    this.targetOffset = targetOffset;
    this.count = count;
    this.qualifier = qualifier;
  }

  /** The DIE's offset in .debug_info; -1 for the synthetic void and unknown types. */
  public long offset() {
    return offset;
  }

  public Kind kind() {
    return kind;
  }

  /**
   * The name as the DWARF spells it ("int", "main.T", "*main.T", "[]uint8"), or one made
   * up C-style for unnamed types ("char*", "int[4]", "const char").
   */
  public String name() {
    return name(0);
  }

  /** Depth-bounded: a corrupt file can make a pointer point to itself. */
  private String name(int depth) {
    if (name != null) return name;
    if (depth > MAX_DEPTH) return "...";
    return switch (kind) {
      case POINTER -> target().name(depth + 1) + "*";
      case REFERENCE -> target().name(depth + 1) + "&";
      case ARRAY -> target().name(depth + 1) + "[" + (count >= 0 ? count : "") + "]";
      case QUALIFIER -> qualifier + " " + target().name(depth + 1);
      case VOID -> "void";
      case FUNCTION -> "func";
      case STRUCT -> "struct <anonymous>";
      case UNION -> "union <anonymous>";
      default -> "<unknown>";
    };
  }

  /** Size in bytes from DW_AT_byte_size (pointers: the unit's address size), or -1. */
  public long size() {
    return size(0);
  }

  private long size(int depth) {
    if (size >= 0) return size;
    if (depth > MAX_DEPTH) return -1;
    return switch (kind) {
      case TYPEDEF, QUALIFIER -> target().size(depth + 1);
      case ARRAY -> {
        long element = target().size(depth + 1);
        yield count >= 0 && element >= 0 && (element == 0 || count <= Long.MAX_VALUE / element)
            ? count * element : -1;
      }
      default -> -1;
    };
  }

  /** A base type's encoding; {@link Encoding#NONE} for other kinds. */
  public Encoding encoding() {
    return encoding;
  }

  /** Go's reflect kind, {@link GoKind#INVALID} for types not described by Go. */
  public GoKind goKind() {
    return goKind;
  }

  /** What a pointer, reference, typedef, qualifier or array (its element) refers to. */
  public DwarfType target() {
    DwarfType t = target;
    if (t == null) target = t = builder.type(targetOffset);
    return t;
  }

  /** An array's element count, or -1 when unknown. */
  public long count() {
    return count;
  }

  /** Members of a struct, class or union, in order; empty for other kinds. */
  public List<DwarfMember> members() {
    List<DwarfMember> m = members;
    if (m == null) members = m = builder.members(this);
    return m;
  }

  public Optional<DwarfMember> member(String memberName) {
    return members().stream().filter(x -> memberName.equals(x.name())).findFirst();
  }

  /** This type with typedefs and qualifiers peeled off (a bounded walk). */
  public DwarfType resolved() {
    DwarfType t = this;
    for (int i = 0; i < MAX_DEPTH && (t.kind == Kind.TYPEDEF || t.kind == Kind.QUALIFIER); i++) {
      t = t.target();
    }
    return t;
  }

  public boolean isAggregate() {
    return kind == Kind.STRUCT || kind == Kind.CLASS || kind == Kind.UNION;
  }

  @Override
  public String toString() {
    return name();
  }
}
