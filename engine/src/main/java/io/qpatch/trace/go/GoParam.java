package io.qpatch.trace.go;

import io.qpatch.dwarf.DwarfType;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A Go function's parameter or result with where the caller puts it at the call.
 *
 * @param name as in the source; unnamed results are "~r0", "~r1"...
 * @param type from DWARF
 * @param result true for a result (assigned separately, from RAX again)
 * @param location registers, a stack slot, nothing (zero-sized), or unknown
 */
public record GoParam(String name, DwarfType type, boolean result, Location location) {

  /** Where a value lives at the function's entry (or, for a result, at its return). */
  public enum Where {
    /** In {@link Location#slots()}, in order. */
    REGISTERS,
    /** On the stack at {@link Location#stackOffset()} from RSP at the entry. */
    STACK,
    /** Zero-sized: nothing is passed. */
    EMPTY,
    /** The type is not understood well enough to assign it (nor anything after it). */
    UNKNOWN
  }

  /**
   * One register holding (part of) a value.
   *
   * @param register "RAX".."R11", or "X0".."X14" for floating point
   * @param part which part: "" for a scalar, "ptr"/"len"/"cap" for strings and slices,
   *     the interface words' field names, ".field" paths for struct members
   * @param size bytes of the value in the register
   * @param decoded false for floating-point registers, whose values the tracer does not read
   */
  public record Slot(String register, String part, long size, boolean decoded) {
    public boolean isFloat() {
      return register.startsWith("X");
    }
  }

  /** @param stackOffset for STACK: offset from RSP at entry (the return address is at 0) */
  public record Location(Where where, List<Slot> slots, long stackOffset) {
    public Location {
      slots = List.copyOf(slots);
    }

    /** "RBX,RCX", "stack+0x8", "empty", "unknown". */
    @Override
    public String toString() {
      return switch (where) {
        case REGISTERS -> slots.stream().map(Slot::register).collect(Collectors.joining(","));
        case STACK -> stackOffset >= 0 ? "stack+0x" + Long.toHexString(stackOffset) : "stack";
        case EMPTY -> "empty";
        case UNKNOWN -> "unknown";
      };
    }
  }

  @Override
  public String toString() {
    return (result ? "result " : "") + name + " " + type.name() + " @" + location;
  }
}
