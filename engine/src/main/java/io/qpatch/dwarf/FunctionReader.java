package io.qpatch.dwarf;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads subprogram DIEs into {@link DwarfFunction}s. A concrete function may carry its
 * name and parameters itself, or take them from the DIE named by DW_AT_abstract_origin
 * (an out-of-line copy of an inlined function, in gcc and Go output alike) or
 * DW_AT_specification (a C++ member defined outside its class); those links are followed
 * a bounded number of times.
 */
final class FunctionReader {
  private static final int MAX_LINKS = 8;

  private final DieReader reader;
  private final TypeBuilder types;

  FunctionReader(DieReader reader, TypeBuilder types) {
    this.reader = reader;
    this.types = types;
  }

  DwarfFunction function(long dieOffset) {
    Die die = reader.at(dieOffset);
    long low = die.number(Dw.AT_LOW_PC, 0);
    long high = die.number(Dw.AT_HIGH_PC, 0);
    // DWARF 4+: a high_pc of a constant class is an offset from low_pc (DWARF 5, 2.17.2).
    if (!isAddressForm(die.form(Dw.AT_HIGH_PC))) high = low + high;
    String name = linked(die, Dw.AT_NAME);
    String linkage = linked(die, Dw.AT_LINKAGE_NAME);
    if (linkage == null) linkage = linked(die, Dw.AT_MIPS_LINKAGE_NAME);
    if (name == null) name = linkage != null ? linkage : String.format("<0x%x>", low);
    return new DwarfFunction(this, dieOffset, name, linkage, low, high);
  }

  private static boolean isAddressForm(int form) {
    return switch (form) {
      case Dw.FORM_ADDR, Dw.FORM_ADDRX, Dw.FORM_ADDRX1, Dw.FORM_ADDRX2, Dw.FORM_ADDRX3,
           Dw.FORM_ADDRX4, Dw.FORM_GNU_ADDR_INDEX -> true;
      default -> false;
    };
  }

  /** A string attribute of {@code die} or of the DIEs its origin/specification names. */
  private String linked(Die die, int attr) {
    Die d = die;
    for (int i = 0; i < MAX_LINKS && d != null; i++) {
      String s = d.string(attr);
      if (s != null) return s;
      d = origin(d);
    }
    return null;
  }

  private Die origin(Die d) {
    long ref = d.ref(Dw.AT_ABSTRACT_ORIGIN);
    if (ref < 0) ref = d.ref(Dw.AT_SPECIFICATION);
    return ref < 0 ? null : reader.at(ref);
  }

  /** The subprogram's DW_AT_type (its own, or its origin's); empty for a void function. */
  java.util.Optional<DwarfType> returnType(long dieOffset) {
    Die d = reader.at(dieOffset);
    for (int i = 0; i < MAX_LINKS && d != null; i++) {
      long type = d.ref(Dw.AT_TYPE);
      if (type >= 0) return java.util.Optional.of(types.type(type));
      d = origin(d);
    }
    return java.util.Optional.empty();
  }

  List<DwarfParam> params(long dieOffset) {
    Die die = reader.at(dieOffset);
    for (int i = 0; i < MAX_LINKS && die != null; i++) {
      List<Die> formals = formals(die);
      if (!formals.isEmpty()) return formals.stream().map(this::param).toList();
      die = origin(die);
    }
    return List.of();
  }

  private List<Die> formals(Die die) {
    List<Die> out = new ArrayList<>();
    for (Die child : reader.children(die)) {
      if (child.tag() == Dw.TAG_FORMAL_PARAMETER) out.add(child);
    }
    return out;
  }

  private DwarfParam param(Die formal) {
    Die d = formal;
    String name = null;
    long type = -1;
    boolean output = false;
    for (int i = 0; i < MAX_LINKS && d != null; i++) {
      if (name == null) name = d.string(Dw.AT_NAME);
      if (type < 0) type = d.ref(Dw.AT_TYPE);
      output |= d.flag(Dw.AT_VARIABLE_PARAMETER);
      d = origin(d);
    }
    return new DwarfParam(name == null ? "" : name,
        type < 0 ? types.unknown() : types.type(type), output);
  }
}
