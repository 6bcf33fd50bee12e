package io.qpatch.sys;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.Arrays;

/**
 * A thread's general-purpose registers: a mutable copy of x86-64 {@code struct
 * user_regs_struct} (sys/user.h) as PTRACE_GETREGS returns it. Change it and write it
 * back with the thread's {@code setRegisters}.
 */
public final class Registers {
  /** struct user_regs_struct: 27 unsigned long long fields, 216 bytes. */
  public static final StructLayout LAYOUT =
      MemoryLayout.structLayout(
          Arrays.stream(Reg.values())
              .map(r -> JAVA_LONG.withName(r.field()))
              .toArray(MemoryLayout[]::new));

  private static final int[] INDEX = new int[Reg.values().length];

  static {
    for (Reg r : Reg.values()) {
      long offset = LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(r.field()));
      INDEX[r.ordinal()] = (int) (offset / JAVA_LONG.byteSize());
    }
  }

  private final long[] values;

  private Registers(long[] values) {
    this.values = values;
  }

  /** Decodes a user_regs_struct. */
  public static Registers read(MemorySegment userRegs) {
    return new Registers(userRegs.asSlice(0, LAYOUT).toArray(JAVA_LONG));
  }

  /** Encodes into a user_regs_struct. */
  public void write(MemorySegment userRegs) {
    MemorySegment.copy(values, 0, userRegs, JAVA_LONG, 0, values.length);
  }

  public long get(Reg r) {
    return values[INDEX[r.ordinal()]];
  }

  public Registers set(Reg r, long value) {
    values[INDEX[r.ordinal()]] = value;
    return this;
  }

  public Registers copy() {
    return new Registers(values.clone());
  }

  public long rip() {
    return get(Reg.RIP);
  }

  public long rsp() {
    return get(Reg.RSP);
  }

  public long rax() {
    return get(Reg.RAX);
  }

  public long origRax() {
    return get(Reg.ORIG_RAX);
  }

  public Registers rip(long v) {
    return set(Reg.RIP, v);
  }

  public Registers rsp(long v) {
    return set(Reg.RSP, v);
  }

  public Registers rax(long v) {
    return set(Reg.RAX, v);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Registers r && Arrays.equals(values, r.values);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(values);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    for (Reg r : Reg.values()) {
      if (!sb.isEmpty()) sb.append(' ');
      sb.append(r.field()).append("=0x").append(Long.toHexString(get(r)));
    }
    return sb.toString();
  }
}
