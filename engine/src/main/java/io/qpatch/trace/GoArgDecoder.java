package io.qpatch.trace;

import io.qpatch.dwarf.DwarfType;
import io.qpatch.dwarf.GoKind;
import io.qpatch.trace.go.GoParam;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * {@code --args=decoded} for Go: each argument by name with its value, from the DWARF
 * types and the register assignment of Go's ABIInternal ({@link GoParam}): integers in
 * decimal, bools, strings (up to 64 bytes, read from the target), pointers, maps, chans
 * and funcs in hex, slices as {@code []T(len=N cap=M)}. Floats (in X registers, which
 * neither backend samples), structs and arrays print as {@code ?}/{@code {...}}.
 */
final class GoArgDecoder implements ArgDecoder {
  private static final int MAX_STRING = 64;

  /**
   * What decoding needs of one argument, copied out of DWARF at plan time (the types read
   * lazily from the ELF file, which is closed once the probes are planned).
   */
  record Arg(String name, GoKind kind, long size, String typeName, GoParam.Location location) {
    static Arg of(GoParam p) {
      DwarfType t = p.type().resolved();
      return new Arg(p.name(), t.goKind(), t.size(), t.name(), p.location());
    }
  }

  private final Map<Integer, List<Arg>> params;

  /** @param params each traced function's arguments (results excluded), by function id */
  GoArgDecoder(Map<Integer, List<Arg>> params) {
    this.params = Map.copyOf(params);
  }

  @Override
  public String decode(TracedFunction function, long[] regs, TargetMemory memory) {
    List<Arg> list = params.get(function.id());
    if (list == null) return null;
    StringBuilder sb = new StringBuilder();
    for (Arg p : list) {
      if (!sb.isEmpty()) sb.append(", ");
      sb.append(p.name()).append('=').append(value(p, regs, memory));
    }
    return sb.toString();
  }

  private static String value(Arg p, long[] regs, TargetMemory memory) {
    GoParam.Location at = p.location();
    return switch (at.where()) {
      case EMPTY -> "{}";
      case UNKNOWN -> "?";
      case STACK -> scalar(p, readStack(regs, at.stackOffset(), memory));
      case REGISTERS -> fromRegisters(p, at.slots(), regs, memory);
    };
  }

  private static long readStack(long[] regs, long offset, TargetMemory memory) {
    return memory.read8(regs[SampleRegs.SP] + offset);
  }

  private static String fromRegisters(Arg type, List<GoParam.Slot> slots, long[] regs, TargetMemory memory) {
    if (slots.isEmpty() || slots.getFirst().isFloat()) return "?";
    long first = reg(slots.getFirst(), regs);
    GoKind kind = type.kind();
    if (kind == GoKind.STRING && slots.size() >= 2) return string(first, reg(slots.get(1), regs), memory);
    if (kind == GoKind.SLICE && slots.size() >= 3) {
      return "[]" + elementName(type) + "(len=" + reg(slots.get(1), regs) + " cap=" + reg(slots.get(2), regs) + ")";
    }
    if (kind == GoKind.INTERFACE && slots.size() >= 2) {
      return "(0x" + Long.toHexString(first) + ", 0x" + Long.toHexString(reg(slots.get(1), regs)) + ")";
    }
    if (slots.size() > 1 || kind == GoKind.STRUCT || kind == GoKind.ARRAY) return "{...}";
    return scalar(type, first);
  }

  private static String scalar(Arg type, long raw) {
    long size = Math.max(1, Math.min(8, type.size()));
    long v = size == 8 ? raw : raw & ((1L << (8 * size)) - 1);
    return switch (type.kind()) {
      case BOOL -> v != 0 ? "true" : "false";
      case INT, INT8, INT16, INT32, INT64 -> Long.toString(size == 8 ? v : (v << (64 - 8 * size)) >> (64 - 8 * size));
      case UINT, UINT8, UINT16, UINT32, UINT64 -> Long.toUnsignedString(v);
      case FLOAT32, FLOAT64, COMPLEX64, COMPLEX128 -> "?";
      default -> "0x" + Long.toHexString(v);
    };
  }

  private static String string(long ptr, long len, TargetMemory memory) {
    if (len == 0) return "\"\"";
    if (len < 0 || ptr == 0) return "?";
    int n = (int) Math.min(len, MAX_STRING);
    String s;
    try {
      s = new String(memory.read(ptr, n), StandardCharsets.UTF_8);
    } catch (RuntimeException e) {
      return "?";
    }
    StringBuilder q = new StringBuilder();
    Json.quote(q, s);
    return len > MAX_STRING ? q + "..." : q.toString();
  }

  private static String elementName(Arg slice) {
    String name = slice.typeName();
    return name != null && name.startsWith("[]") ? name.substring(2) : "?";
  }

  private static long reg(GoParam.Slot slot, long[] regs) {
    long v = regs[slotOf(slot.register())];
    return slot.size() >= 8 ? v : v & ((1L << (8 * slot.size())) - 1);
  }

  /** "RAX".."R11" to a {@link SampleRegs} slot. */
  static int slotOf(String register) {
    return switch (register) {
      case "RAX" -> SampleRegs.AX;
      case "RBX" -> SampleRegs.BX;
      case "RCX" -> SampleRegs.CX;
      case "RDI" -> SampleRegs.DI;
      case "RSI" -> SampleRegs.SI;
      case "R8" -> SampleRegs.R8;
      case "R9" -> SampleRegs.R9;
      case "R10" -> SampleRegs.R10;
      case "R11" -> SampleRegs.R11;
      default -> throw new IllegalArgumentException("not an integer argument register: " + register);
    };
  }
}
