package io.qpatch.arch.x86_64;

/**
 * One explicit operand of an {@link Instruction}, from Capstone's {@code cs_x86_op}.
 *
 * @param type register, immediate or memory
 * @param reg the register name ("rax", "r14d") for {@link Type#REG}, else ""
 * @param imm the immediate for {@link Type#IMM}; for a relative branch Capstone gives
 *     the absolute target here, not the encoded offset
 * @param mem the memory reference for {@link Type#MEM}, else null
 * @param size operand size in bytes
 * @param access {@link #READ} and/or {@link #WRITE} ({@code cs_ac_type} in capstone.h)
 */
public record Operand(Type type, String reg, long imm, Mem mem, int size, int access) {
  /** {@code CS_AC_READ}. */
  public static final int READ = 1;
  /** {@code CS_AC_WRITE}. */
  public static final int WRITE = 2;

  /** {@code x86_op_type} in x86.h, without the invalid value. */
  public enum Type {
    REG,
    IMM,
    MEM
  }

  /**
   * A memory operand {@code segment:[base + index*scale + disp]}. Absent registers are "".
   * For a RIP-relative operand {@code base} is "rip" and {@code disp} is the encoded
   * displacement, relative to the end of the instruction.
   */
  public record Mem(String segment, String base, String index, int scale, long disp) {
    public boolean isRipRelative() {
      return base.equals("rip");
    }
  }

  public boolean isRead() {
    return (access & READ) != 0;
  }

  public boolean isWritten() {
    return (access & WRITE) != 0;
  }
}
