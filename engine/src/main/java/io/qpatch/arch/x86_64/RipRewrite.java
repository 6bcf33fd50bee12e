package io.qpatch.arch.x86_64;

import java.util.List;

/**
 * Rewrites a RIP-relative instruction whose target is out of rel32 reach of its new pc,
 * for the two forms that can be rewritten without a scratch register because they
 * overwrite a general-purpose register anyway:
 *
 * <pre>
 *   lea r64, [rip+X]        ->  movabs r64, target
 *   lea r32, [rip+X]        ->  mov r32, low32(target)
 *   mov r64, qword [rip+X]  ->  movabs r64, target ; mov r64, [r64]
 *   mov r32, dword [rip+X]  ->  movabs r64, target ; mov r32, [r64]
 * </pre>
 *
 * The 32-bit forms zero the upper half of the register exactly as the originals do
 * (Intel SDM vol. 1, 3.4.1.1). Flags are untouched by all of them.
 */
final class RipRewrite {
  private RipRewrite() {}

  /** Writes the rewrite and returns true, or writes nothing and returns false. */
  static boolean tryWrite(Instruction insn, X86Writer out) {
    List<Operand> ops = insn.operands();
    if (ops.size() != 2 || ops.get(0).type() != Operand.Type.REG || !isPlainRip(ops.get(1))) {
      return false;
    }
    String reg = ops.get(0).reg();
    Gpr wide = Gpr.from64(reg);
    Gpr narrow = Gpr.from32(reg);
    if (wide == null && narrow == null) return false;
    long target = insn.ripTarget();
    return switch (insn.capstoneId()) {
      case CapstoneIds.X86_INS_LEA -> writeLea(wide, narrow, target, out);
      case CapstoneIds.X86_INS_MOV -> writeLoad(wide, narrow, target, out);
      default -> false;
    };
  }

  private static boolean isPlainRip(Operand op) {
    return op.type() == Operand.Type.MEM && op.mem().isRipRelative()
        && op.mem().segment().isEmpty() && op.mem().index().isEmpty();
  }

  private static boolean writeLea(Gpr wide, Gpr narrow, long target, X86Writer out) {
    if (wide != null) out.putMovRegImm64(wide, target);
    else out.putMovReg32Imm32(narrow, (int) target);
    return true;
  }

  private static boolean writeLoad(Gpr wide, Gpr narrow, long target, X86Writer out) {
    Gpr reg = wide != null ? wide : narrow;
    out.putMovRegImm64(reg, target);
    if (wide != null) out.putMovRegMemBase(reg, reg);
    else out.putMovReg32MemBase(reg, reg);
    return true;
  }
}
