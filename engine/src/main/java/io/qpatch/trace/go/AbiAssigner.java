package io.qpatch.trace.go;

import io.qpatch.arch.x86_64.Gpr;
import io.qpatch.dwarf.DwarfMember;
import io.qpatch.dwarf.DwarfParam;
import io.qpatch.dwarf.DwarfType;
import io.qpatch.dwarf.Encoding;
import io.qpatch.dwarf.GoKind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Assigns a Go function's receiver, arguments and results to registers or stack slots,
 * following the algorithm of src/cmd/compile/abi-internal.md ("Function call argument and
 * result passing"): each value is register-assigned as a whole or not at all (then it goes
 * on the stack and the registers it took are given back); strings take 2 integer
 * registers (ptr, len), interfaces 2, slices 3 (ptr, len, cap), complex numbers 2 floating
 * point registers; structs field by field; arrays only of length 0 or 1; results start
 * over from the first register. Under the stack ABI (ABI0) every non-empty value is on
 * the stack.
 *
 * <p>Stack offsets are from RSP at the entry: the return address is at 0, the stack
 * sequence starts at 8, each value aligned to its type's alignment, arguments and results
 * separated by a pointer-alignment field.
 */
final class AbiAssigner {
  private static final int MAX_DEPTH = 32;
  private static final long PTR = 8;

  private final GoAbi abi;
  private final List<Gpr> intRegs;
  private int ints;
  private int floats;
  private long stack = PTR;
  private boolean lost;
  private List<GoParam.Slot> slots;
  private final Map<DwarfType, Long> alignments = new HashMap<>();

  private AbiAssigner(GoAbi abi) {
    this.abi = abi;
    this.intRegs = abi.integerArgRegisters();
  }

  static List<GoParam> assign(List<DwarfParam> params, GoAbi abi) {
    AbiAssigner a = new AbiAssigner(abi);
    List<GoParam> out = new ArrayList<>();
    for (DwarfParam p : params) if (!p.output()) out.add(a.assignOne(p));
    a.ints = 0;
    a.floats = 0;
    a.stack = align(a.stack, PTR);
    for (DwarfParam p : params) if (p.output()) out.add(a.assignOne(p));
    return out;
  }

  private GoParam assignOne(DwarfParam p) {
    return new GoParam(p.name(), p.type(), p.output(), locate(p.type()));
  }

  private GoParam.Location locate(DwarfType type) {
    long size = lost ? -1 : type.size();
    if (lost || size < 0 || align(type, 0) < 0) {
      lost = true;
      return new GoParam.Location(GoParam.Where.UNKNOWN, List.of(), -1);
    }
    if (size == 0) return new GoParam.Location(GoParam.Where.EMPTY, List.of(), -1);
    int savedInts = ints;
    int savedFloats = floats;
    slots = new ArrayList<>();
    if (abi == GoAbi.REGISTER && registerAssign(type, "", 0)) {
      return new GoParam.Location(GoParam.Where.REGISTERS, slots, -1);
    }
    ints = savedInts;
    floats = savedFloats;
    long at = align(stack, align(type, 0));
    stack = at + size;
    return new GoParam.Location(GoParam.Where.STACK, List.of(), at);
  }

  /** Register-assignment of one value (abi-internal.md); false means "fail". */
  private boolean registerAssign(DwarfType type, String part, int depth) {
    if (depth > MAX_DEPTH) return false;
    DwarfType t = type.resolved();
    return switch (kindOf(type)) {
      case BOOL, INT, INT8, INT16, INT32, INT64, UINT, UINT8, UINT16, UINT32, UINT64, UINTPTR,
           POINTER, UNSAFE_POINTER, MAP, CHAN, FUNC -> integer(part, t.size());
      case FLOAT32, FLOAT64 -> floating(part, t.size());
      case COMPLEX64, COMPLEX128 -> floating(join(part, "real"), t.size() / 2)
          && floating(join(part, "imag"), t.size() / 2);
      case STRING, SLICE, INTERFACE, STRUCT -> members(t, part, depth);
      case ARRAY -> array(t, part, depth);
      case INVALID, FLOAT_OTHER -> false;
    };
  }

  /** Go's kind of {@code type}, looking through typedefs; DWARF's kind for non-Go types. */
  private static Kind kindOf(DwarfType type) {
    DwarfType t = type;
    for (int i = 0; i < MAX_DEPTH; i++) {
      if (t.goKind() != GoKind.INVALID) return Kind.valueOf(t.goKind().name());
      if (t.kind() != DwarfType.Kind.TYPEDEF && t.kind() != DwarfType.Kind.QUALIFIER) break;
      t = t.target();
    }
    return switch (t.kind()) {
      case BASE -> t.encoding().isInteger() ? Kind.INT
          : switch (t.encoding()) {
            case BOOLEAN -> Kind.BOOL;
            case FLOAT -> t.size() <= 8 ? Kind.FLOAT64 : Kind.FLOAT_OTHER;
            case COMPLEX_FLOAT -> t.size() <= 16 ? Kind.COMPLEX128 : Kind.FLOAT_OTHER;
            default -> Kind.INVALID;
          };
      case POINTER, REFERENCE -> Kind.POINTER;
      case STRUCT, CLASS -> Kind.STRUCT;
      case ARRAY -> Kind.ARRAY;
      case ENUM -> Kind.INT;
      default -> Kind.INVALID;
    };
  }

  /** GoKind plus a marker for floating-point types wider than a register. */
  private enum Kind {
    INVALID, BOOL, INT, INT8, INT16, INT32, INT64, UINT, UINT8, UINT16, UINT32, UINT64, UINTPTR,
    FLOAT32, FLOAT64, COMPLEX64, COMPLEX128, ARRAY, CHAN, FUNC, INTERFACE, MAP, POINTER, SLICE,
    STRING, STRUCT, UNSAFE_POINTER, FLOAT_OTHER
  }

  private boolean integer(String part, long size) {
    if (size > PTR || ints >= intRegs.size()) return false;
    slots.add(new GoParam.Slot(intRegs.get(ints++).name(), part, size, true));
    return true;
  }

  private boolean floating(String part, long size) {
    if (size > PTR || floats >= GoAbi.FLOAT_ARG_REGISTERS) return false;
    slots.add(new GoParam.Slot("X" + floats++, part, size, false));
    return true;
  }

  /** Strings, slices and interfaces are described as structs of their words. */
  private boolean members(DwarfType t, String part, int depth) {
    for (DwarfMember m : t.members()) {
      String name = m.name() == null ? "?" : m.name();
      if (!registerAssign(m.type(), join(part, name), depth + 1)) return false;
    }
    return true;
  }

  private boolean array(DwarfType t, String part, int depth) {
    long count = t.count();
    if (count == 0) return true;
    return count == 1 && registerAssign(t.target(), part + "[0]", depth + 1);
  }

  private static String join(String part, String name) {
    return part.isEmpty() ? name : part + "." + name;
  }

  /**
   * Go's alignment of {@code type} on amd64 (cmd/compile/internal/types/size.go), or -1.
   * Memoized, and a struct met again inside itself (only a corrupt file does that) is -1.
   */
  private long align(DwarfType type, int depth) {
    DwarfType t = type.resolved();
    Long known = alignments.get(t);
    if (known != null) return known;
    if (depth > MAX_DEPTH) return -1;
    alignments.put(t, -1L);
    long a = switch (t.kind()) {
      case STRUCT, CLASS, UNION -> {
        long max = 1;
        for (DwarfMember m : t.members()) {
          long ma = align(m.type(), depth + 1);
          if (ma < 0) yield -1;
          max = Math.max(max, ma);
        }
        yield max;
      }
      case ARRAY -> align(t.target(), depth + 1);
      case BASE -> t.encoding() == Encoding.COMPLEX_FLOAT
          ? Math.min(PTR, t.size() / 2) : Math.min(PTR, Math.max(1, t.size()));
      case POINTER, REFERENCE, FUNCTION, ENUM -> Math.min(PTR, Math.max(1, t.size()));
      default -> -1;
    };
    alignments.put(t, a);
    return a;
  }

  private static long align(long value, long alignment) {
    return (value + alignment - 1) / alignment * alignment;
  }
}
