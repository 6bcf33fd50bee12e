package io.qpatch.dwarf;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns type DIEs into {@link DwarfType}s, one object per DIE offset. Types reached
 * through a target or member are built only when the caller walks there.
 */
final class TypeBuilder {
  private final DieReader reader;
  private final Map<Long, DwarfType> cache = new HashMap<>();
  private final DwarfType voidType;
  private final DwarfType unknownType;

  TypeBuilder(DieReader reader) {
    this.reader = reader;
    this.voidType = synthetic(DwarfType.Kind.VOID, "void");
    this.unknownType = synthetic(DwarfType.Kind.UNKNOWN, "<unknown>");
  }

  private DwarfType synthetic(DwarfType.Kind kind, String name) {
    return new DwarfType(this, -1, kind, name, -1, Encoding.NONE, GoKind.INVALID, -1, -1, null);
  }

  /** The type at {@code offset}; -1 (no DW_AT_type) is void. */
  synchronized DwarfType type(long offset) {
    if (offset < 0) return voidType;
    DwarfType t = cache.get(offset);
    if (t == null) {
      t = build(reader.at(offset));
      cache.put(offset, t);
    }
    return t;
  }

  DwarfType unknown() {
    return unknownType;
  }

  private DwarfType build(Die die) {
    if (die.isNull()) return unknownType;
    DwarfType.Kind kind = kindOf(die.tag());
    if (kind == DwarfType.Kind.UNKNOWN) return unknownType;
    long size = die.number(Dw.AT_BYTE_SIZE, -1);
    if (size < 0 && (kind == DwarfType.Kind.POINTER || kind == DwarfType.Kind.REFERENCE)) {
      size = die.unit.addressSize;
    }
    String name = die.string(Dw.AT_NAME);
    long count = kind == DwarfType.Kind.ARRAY ? arrayCount(die) : -1;
    return new DwarfType(this, die.offset, kind, name, size,
        Encoding.of(die.number(Dw.AT_ENCODING, 0)), GoKind.of(die.number(Dw.AT_GO_KIND, 0)),
        die.ref(Dw.AT_TYPE), count, qualifier(die.tag()));
  }

  private static DwarfType.Kind kindOf(int tag) {
    return switch (tag) {
      case Dw.TAG_BASE_TYPE -> DwarfType.Kind.BASE;
      case Dw.TAG_POINTER_TYPE -> DwarfType.Kind.POINTER;
      case Dw.TAG_REFERENCE_TYPE, Dw.TAG_RVALUE_REFERENCE_TYPE -> DwarfType.Kind.REFERENCE;
      case Dw.TAG_STRUCTURE_TYPE -> DwarfType.Kind.STRUCT;
      case Dw.TAG_CLASS_TYPE -> DwarfType.Kind.CLASS;
      case Dw.TAG_UNION_TYPE -> DwarfType.Kind.UNION;
      case Dw.TAG_TYPEDEF -> DwarfType.Kind.TYPEDEF;
      case Dw.TAG_ARRAY_TYPE -> DwarfType.Kind.ARRAY;
      case Dw.TAG_ENUMERATION_TYPE -> DwarfType.Kind.ENUM;
      case Dw.TAG_CONST_TYPE, Dw.TAG_VOLATILE_TYPE, Dw.TAG_RESTRICT_TYPE, Dw.TAG_ATOMIC_TYPE ->
          DwarfType.Kind.QUALIFIER;
      case Dw.TAG_SUBROUTINE_TYPE -> DwarfType.Kind.FUNCTION;
      case Dw.TAG_UNSPECIFIED_TYPE -> DwarfType.Kind.VOID;
      default -> DwarfType.Kind.UNKNOWN;
    };
  }

  private static String qualifier(int tag) {
    return switch (tag) {
      case Dw.TAG_CONST_TYPE -> "const";
      case Dw.TAG_VOLATILE_TYPE -> "volatile";
      case Dw.TAG_RESTRICT_TYPE -> "restrict";
      case Dw.TAG_ATOMIC_TYPE -> "_Atomic";
      default -> null;
    };
  }

  /** The first dimension: DW_AT_count, or DW_AT_upper_bound + 1 (C's lower bound is 0). */
  private long arrayCount(Die array) {
    for (Die child : reader.children(array)) {
      if (child.tag() != Dw.TAG_SUBRANGE_TYPE) continue;
      long count = child.number(Dw.AT_COUNT, -1);
      if (count >= 0 && DieReader.isRefForm(child.form(Dw.AT_COUNT))) return -1;
      if (count >= 0) return count;
      long upper = child.number(Dw.AT_UPPER_BOUND, -1);
      if (DieReader.isRefForm(child.form(Dw.AT_UPPER_BOUND))) return -1;
      return upper >= 0 && upper != 0xffffffffL ? upper + 1 : -1;
    }
    return -1;
  }

  synchronized List<DwarfMember> members(DwarfType type) {
    if (!type.isAggregate() || type.offset() < 0) return List.of();
    Die die = reader.at(type.offset());
    List<DwarfMember> out = new ArrayList<>();
    for (Die child : reader.children(die)) {
      if (child.tag() != Dw.TAG_MEMBER) continue;
      long offset = memberOffset(child, type.kind() == DwarfType.Kind.UNION);
      out.add(new DwarfMember(child.string(Dw.AT_NAME), offset, type(child.ref(Dw.AT_TYPE)),
          child.flag(Dw.AT_GO_EMBEDDED_FIELD)));
    }
    return List.copyOf(out);
  }

  /** DW_AT_data_member_location as a constant, or the DWARF 2 DW_OP_plus_uconst block. */
  private static long memberOffset(Die member, boolean inUnion) {
    int form = member.form(Dw.AT_DATA_MEMBER_LOCATION);
    if (form == 0) return inUnion ? 0 : -1;
    byte[] block = member.block(Dw.AT_DATA_MEMBER_LOCATION);
    if (block == null) return member.number(Dw.AT_DATA_MEMBER_LOCATION, -1);
    if (block.length < 2 || (block[0] & 0xff) != Dw.OP_PLUS_UCONST) return -1;
    long value = 0;
    for (int i = 1, shift = 0; i < block.length && shift < 64; i++, shift += 7) {
      value |= (long) (block[i] & 0x7f) << shift;
      if ((block[i] & 0x80) == 0) return value;
    }
    return -1;
  }
}
