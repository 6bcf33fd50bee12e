package io.qpatch.arch.x86_64;

/**
 * Enum values of Capstone 4.0.2's {@code x86.h} that qpatch tests for ({@code x86_reg},
 * {@code x86_insn}, {@code x86_insn_group}, {@code x86_op_type}). They are generated
 * tables that change between major versions, which is why {@link Capstone} binds the
 * 4.x soname only; {@code CapstoneLayoutTest} checks each value against the header.
 */
final class CapstoneIds {
  private CapstoneIds() {}

  static final int X86_REG_INVALID = 0;
  static final int X86_REG_RIP = 41;

  static final int X86_OP_REG = 1;
  static final int X86_OP_IMM = 2;
  static final int X86_OP_MEM = 3;

  static final int X86_INS_CALL = 56;
  static final int X86_INS_HLT = 208;
  static final int X86_INS_INT3 = 223;
  static final int X86_INS_JMP = 264;
  static final int X86_INS_JRCXZ = 271;
  static final int X86_INS_LEA = 322;
  static final int X86_INS_LJMP = 155;
  static final int X86_INS_MOV = 449;
  static final int X86_INS_RET = 147;
  static final int X86_INS_UD2 = 701;
  static final int X86_INS_UD2B = 710;
  static final int X86_INS_ENDBR64 = 1500;

  static final int X86_GRP_JUMP = 1;
  static final int X86_GRP_CALL = 2;
  static final int X86_GRP_RET = 3;
  static final int X86_GRP_IRET = 5;
  static final int X86_GRP_BRANCH_RELATIVE = 7;
}
