package io.qpatch.trace;

import io.qpatch.trace.go.GoParam;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * {@code --args decoded}: each traced function's arguments and results by name with their
 * values, from DWARF (Go's ABIInternal assignment, {@link io.qpatch.trace.go.GoParam}, or
 * the SysV one, {@link SysvAssigner}), printed by {@link ValueFormat}. Says what a
 * backend must capture at a probe for that: floating-point registers, and the memory
 * behind strings, stack slots and interfaces ({@link #captures}).
 */
final class ArgDecoder {
  /** A function's arguments and results. */
  record Signature(List<ValueSpec> args, List<ValueSpec> results) {}

  private final Map<Integer, Signature> signatures;
  private final Map<Long, String> typeNames;

  /**
   * @param signatures by traced function id
   * @param typeNames Go runtime type descriptors' run-time addresses to names
   */
  ArgDecoder(Map<Integer, Signature> signatures, Map<Long, String> typeNames) {
    this.signatures = Map.copyOf(signatures);
    this.typeNames = Map.copyOf(typeNames);
  }

  /** One decoder for the functions of both (their ids are distinct). */
  ArgDecoder with(ArgDecoder other) {
    Map<Integer, Signature> all = new java.util.HashMap<>(signatures);
    all.putAll(other.signatures);
    Map<Long, String> names = new java.util.HashMap<>(typeNames);
    names.putAll(other.typeNames);
    return new ArgDecoder(all, names);
  }

  /** {@code n=41, s="hi"} at a call or {@code ~r0=10, ~r1=nil} at a return; null when unknown. */
  String decode(TracedFunction fn, ProbeSite.Kind kind, long[] regs, TargetMemory memory) {
    List<ValueSpec> values = values(fn, kind);
    return values == null ? null : new ValueFormat(regs, memory, typeNames).format(values);
  }

  private List<ValueSpec> values(TracedFunction fn, ProbeSite.Kind kind) {
    Signature s = signatures.get(fn.id());
    if (s == null) return null;
    return kind == ProbeSite.Kind.CALL ? s.args() : s.results();
  }

  /** A value of {@code fn} at this kind of probe is in a floating-point register. */
  boolean readsFloats(TracedFunction fn, ProbeSite.Kind kind) {
    List<ValueSpec> values = values(fn, kind);
    if (values == null) return false;
    for (ValueSpec v : values) {
      for (GoParam.Slot s : v.location().slots()) if (s.isFloat()) return true;
    }
    return false;
  }

  /**
   * The first value at any of {@code sites} that is in a floating-point register, as
   * "main.f's x" for a refusal; null when none is.
   */
  String floatUser(List<ProbeSite> sites) {
    for (ProbeSite s : sites) {
      List<ValueSpec> values = values(s.function(), s.kind());
      if (values == null) continue;
      for (ValueSpec v : values) {
        if (v.location().slots().stream().anyMatch(GoParam.Slot::isFloat)) return s.function().name() + "'s " + v.name();
      }
    }
    return null;
  }

  /** The memory the values at this probe need, read at the probe. */
  List<Capture> captures(TracedFunction fn, ProbeSite.Kind kind) {
    List<ValueSpec> values = values(fn, kind);
    List<Capture> out = new ArrayList<>();
    if (values == null) return out;
    for (ValueSpec v : values) {
      GoParam.Location at = v.location();
      switch (at.where()) {
        case REGISTERS -> {
          if (v.packed()) packed(v.shape(), at.slots(), out);
          else leaves(v.shape(), at.slots().iterator(), out);
        }
        case STACK -> {
          long size = Math.max(1, v.shape().size());
          for (long o = 0; o < size; o += Capture.MAX_LENGTH) {
            out.add(Capture.at(SampleRegs.SP, at.stackOffset() + o, (int) Math.min(Capture.MAX_LENGTH, size - o)));
          }
          inMemory(v.shape(), at.stackOffset(), out);
        }
        default -> { }
      }
    }
    return out;
  }

  /** Go: one register per leaf, in order; the ones that hold addresses decoding follows. */
  private static void leaves(ValueShape shape, Iterator<GoParam.Slot> slots, List<Capture> out) {
    switch (shape) {
      case ValueShape.Str s -> out.add(Capture.goString(reg(slots.next()), reg(slots.next())));
      case ValueShape.Iface i -> {
        GoParam.Slot first = slots.next();
        if (!i.empty()) out.add(Capture.goPointer(reg(first), 8));
        slots.next();
      }
      case ValueShape.Slice s -> skip(slots, 3);
      case ValueShape.Complex c -> skip(slots, 2);
      case ValueShape.Struct s -> {
        for (ValueShape.Field f : s.fields()) leaves(f.shape(), slots, out);
      }
      case ValueShape.Array a -> {
        if (a.count() == 1) leaves(a.element(), slots, out);
      }
      default -> slots.next();
    }
  }

  /** SysV: a {@code char *} in a register. */
  private static void packed(ValueShape shape, List<GoParam.Slot> slots, List<Capture> out) {
    if (shape instanceof ValueShape.CStr && !slots.isEmpty()) out.add(Capture.cString(reg(slots.getFirst())));
  }

  /** A value at {@code [rsp + at]}, already captured: what its words point to. */
  private static void inMemory(ValueShape shape, long at, List<Capture> out) {
    switch (shape) {
      case ValueShape.Str s -> out.add(Capture.through(SampleRegs.SP, at, 0, ValueFormat.MAX_STRING));
      case ValueShape.CStr s -> out.add(Capture.cStringThrough(SampleRegs.SP, at));
      case ValueShape.Iface i -> {
        if (!i.empty()) out.add(Capture.through(SampleRegs.SP, at, 8, 8));
      }
      case ValueShape.Struct s -> {
        for (ValueShape.Field f : s.fields()) inMemory(f.shape(), at + f.offset(), out);
      }
      default -> { }
    }
  }

  private static void skip(Iterator<GoParam.Slot> slots, int n) {
    for (int i = 0; i < n; i++) slots.next();
  }

  private static int reg(GoParam.Slot slot) {
    return ValueFormat.slotOf(slot.register());
  }
}
