package io.qpatch.trace;

import io.qpatch.dwarf.DwarfFunction;
import io.qpatch.dwarf.DwarfParam;
import io.qpatch.trace.go.GoParam;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a C or C++ function's parameters and return value are at its entry and at its
 * return, after the System V psABI (x86-64 psABI 1.0, 3.2.3 "Parameter Passing"):
 * INTEGER values in RDI, RSI, RDX, RCX, R8, R9; SSE values (float, double) in XMM0-7; an
 * aggregate of up to 16 bytes classified by eightbyte (SSE when every field in it is
 * floating point, else INTEGER) and passed in registers only if all its eightbytes fit,
 * else on the stack like anything larger; stack arguments from RSP+8 at the entry, each
 * 8-byte aligned. Results: RAX, RDX / XMM0, XMM1 by the same classes. A value returned in
 * memory (more than 16 bytes) takes RDI as a hidden first argument; its value is not
 * decoded. Not handled: long double and __int128 (then that value and every one after
 * it show {@code ?}), C++ classes passed by invisible reference because they are not
 * trivially copyable (DWARF does not say it reliably).
 */
final class SysvAssigner {
  private static final List<String> INTEGER = List.of("RDI", "RSI", "RDX", "RCX", "R8", "R9");
  private static final int SSE_REGS = 8;
  private int ints;
  private int sses;
  private long stack = 8;
  private boolean lost;

  private enum Cls { INTEGER, SSE }

  /** The parameters of {@code f}, in order. */
  static List<ValueSpec> params(DwarfFunction f) {
    SysvAssigner a = new SysvAssigner();
    if (f.returnType().map(t -> ValueShape.of(t, false).size() > 16).orElse(false)) a.ints = 1; // hidden pointer
    List<ValueSpec> out = new ArrayList<>();
    for (DwarfParam p : f.params()) {
      ValueShape shape = ValueShape.of(p.type(), false);
      out.add(new ValueSpec(p.name().isEmpty() ? "?" : p.name(), shape, a.locate(shape), true));
    }
    return out;
  }

  /** The return value of {@code f}, named {@code ret} (none for void). */
  static List<ValueSpec> results(DwarfFunction f) {
    if (f.returnType().isEmpty()) return List.of();
    ValueShape shape = ValueShape.of(f.returnType().get(), false);
    List<Cls> classes = classify(shape);
    if (classes == null) return List.of(new ValueSpec("ret", shape, unknown(), true));
    List<GoParam.Slot> slots = new ArrayList<>();
    int i = 0;
    int x = 0;
    for (Cls c : classes) {
      String reg = c == Cls.SSE ? "X" + x++ : (i++ == 0 ? "RAX" : "RDX");
      slots.add(new GoParam.Slot(reg, "", 8, true));
    }
    return List.of(new ValueSpec("ret", shape, new GoParam.Location(GoParam.Where.REGISTERS, slots, -1), true));
  }

  private GoParam.Location locate(ValueShape shape) {
    if (lost || shape instanceof ValueShape.Opaque) {
      lost = true;
      return unknown();
    }
    List<Cls> classes = classify(shape);
    if (classes != null) {
      long needInts = classes.stream().filter(c -> c == Cls.INTEGER).count();
      long needSse = classes.size() - needInts;
      if (ints + needInts <= INTEGER.size() && sses + needSse <= SSE_REGS) {
        List<GoParam.Slot> slots = new ArrayList<>();
        for (Cls c : classes) {
          String reg = c == Cls.SSE ? "X" + sses++ : INTEGER.get(ints++);
          slots.add(new GoParam.Slot(reg, "", 8, true));
        }
        return new GoParam.Location(GoParam.Where.REGISTERS, slots, -1);
      }
    }
    long at = stack;
    stack += (Math.max(1, shape.size()) + 7) / 8 * 8;
    return new GoParam.Location(GoParam.Where.STACK, List.of(), at);
  }

  private static GoParam.Location unknown() {
    return new GoParam.Location(GoParam.Where.UNKNOWN, List.of(), -1);
  }

  /** The class of each eightbyte, or null for MEMORY (more than 16 bytes, or not understood). */
  private static List<Cls> classify(ValueShape shape) {
    long size = shape.size();
    if (size <= 0 || size > 16) return null;
    Cls[] eight = new Cls[(int) ((size + 7) / 8)];
    if (!mark(shape, 0, eight)) return null;
    List<Cls> out = new ArrayList<>();
    for (Cls c : eight) out.add(c == null ? Cls.SSE : c);
    return out;
  }

  /** Merges the classes of the scalars of {@code shape} at byte {@code at} into {@code eight}. */
  private static boolean mark(ValueShape shape, long at, Cls[] eight) {
    switch (shape) {
      case ValueShape.Struct s -> {
        for (ValueShape.Field f : s.fields()) if (!mark(f.shape(), at + f.offset(), eight)) return false;
        return true;
      }
      case ValueShape.Array a -> {
        long stride = a.count() == 0 ? 0 : a.size() / a.count();
        for (long i = 0; i < a.count(); i++) if (!mark(a.element(), at + i * stride, eight)) return false;
        return true;
      }
      case ValueShape.Opaque o -> {
        return false;
      }
      default -> {
        int e = (int) (at / 8);
        if (e >= eight.length) return false;
        Cls c = shape instanceof ValueShape.Float ? Cls.SSE : Cls.INTEGER;
        if (eight[e] != Cls.INTEGER) eight[e] = c; // INTEGER wins over SSE in one eightbyte
        return true;
      }
    }
  }
}
