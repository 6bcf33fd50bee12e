package io.qpatch.trace;

import io.qpatch.arch.x86_64.Cond;
import io.qpatch.arch.x86_64.Instruction;
import io.qpatch.sys.Reg;

/**
 * Chooses how a probed instruction is carried out by the ptrace backend: emulated when
 * it is one of the few prologue forms below, else run out of line. Encodings from the
 * Intel SDM vol. 2 (PUSH 50+rd, MOV 89 /r and 8B /r, SUB REX.W 83 /5 ib and 81 /5 id,
 * Jcc 70+cc and 0F 80+cc, NOP 90 and 0F 1F /0, RET C3).
 */
final class Emulation {
  /** user_regs_struct fields in x86 register-number order (SDM vol. 2, table 2-2). */
  private static final Reg[] BY_NUMBER = {
    Reg.RAX, Reg.RCX, Reg.RDX, Reg.RBX, Reg.RSP, Reg.RBP, Reg.RSI, Reg.RDI,
    Reg.R8, Reg.R9, Reg.R10, Reg.R11, Reg.R12, Reg.R13, Reg.R14, Reg.R15
  };

  private Emulation() {}

  /**
   * How to carry out {@code insn}, the first probed instruction of the function whose
   * bytes are {@code function} at {@code functionAddress}.
   */
  static Displaced of(Instruction insn, byte[] function, long functionAddress) {
    Displaced d = emulated(insn);
    if (d != null) return d;
    if (insn.isCall()) return null; // an indirect call through memory: see Displaced.Call
    return new Displaced.Relocated(function, functionAddress);
  }

  /** The emulation of {@code insn}, or null when it has none. */
  static Displaced emulated(Instruction insn) {
    byte[] b = insn.bytes();
    long next = insn.end();
    if (insn.isEndbr64() || isNop(b)) return new Displaced.Skip(next);
    if (insn.isRet() && b.length == 1) return new Displaced.Ret();
    if (insn.isCall()) return call(insn, b, next);
    if (insn.isConditionalJump() && isJcc(b)) {
      return new Displaced.Jcc(jccCond(b), insn.branchTarget(), next, false);
    }
    int rex = (b[0] & 0xf0) == 0x40 ? b[0] & 0xff : 0;
    int op = rex != 0 ? 1 : 0;
    if (op >= b.length) return null;
    int opcode = b[op] & 0xff;
    if (opcode >= 0x50 && opcode <= 0x57 && b.length == op + 1 && (rex & 0x08) == 0) {
      return new Displaced.Push(BY_NUMBER[(opcode - 0x50) | (rex & 1) << 3], next);
    }
    if ((opcode == 0x89 || opcode == 0x8b) && b.length == op + 2) return movRegReg(b, rex, op, next);
    if (rex == 0x48 && (opcode == 0x83 || opcode == 0x81) && (b[op + 1] & 0xff) == 0xec) {
      return new Displaced.SubRsp(immediate(b, op + 2), next);
    }
    return null;
  }

  /** call rel32 (E8), or call r64 (FF /2 with a register operand). */
  private static Displaced call(Instruction insn, byte[] b, long next) {
    if ((b[0] & 0xff) == 0xe8 && b.length == 5) return new Displaced.Call(insn.branchTarget(), null, next);
    int rex = (b[0] & 0xf0) == 0x40 ? b[0] & 0xff : 0;
    int op = rex != 0 ? 1 : 0;
    if (b.length == op + 2 && (b[op] & 0xff) == 0xff && (b[op + 1] & 0xf8) == 0xd0) {
      return new Displaced.Call(0, BY_NUMBER[(b[op + 1] & 7) | (rex & 1) << 3], next);
    }
    return null;
  }

  private static Displaced movRegReg(byte[] b, int rex, int op, long next) {
    int modrm = b[op + 1] & 0xff;
    if (modrm >> 6 != 3) return null;
    int reg = (modrm >> 3 & 7) | (rex & 4) << 1;
    int rm = (modrm & 7) | (rex & 1) << 3;
    boolean toRm = (b[op] & 0xff) == 0x89;
    Reg dst = BY_NUMBER[toRm ? rm : reg];
    Reg src = BY_NUMBER[toRm ? reg : rm];
    return new Displaced.MovRegReg(dst, src, (rex & 8) != 0, next);
  }

  private static long immediate(byte[] b, int at) {
    if (b.length == at + 1) return b[at];
    if (b.length == at + 4) {
      return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | b[at + 3] << 24;
    }
    throw new IllegalArgumentException("unexpected sub rsp encoding");
  }

  private static boolean isNop(byte[] b) {
    if (b.length == 1) return (b[0] & 0xff) == 0x90;
    int i = 0;
    while (i < b.length && ((b[i] & 0xff) == 0x66 || (b[i] & 0xf0) == 0x40)) i++;
    return i + 1 < b.length && (b[i] & 0xff) == 0x0f && (b[i + 1] & 0xff) == 0x1f;
  }

  private static boolean isJcc(byte[] b) {
    int b0 = b[0] & 0xff;
    if (b.length == 2 && b0 >= 0x70 && b0 <= 0x7f) return true;
    return b.length == 6 && b0 == 0x0f && (b[1] & 0xf0) == 0x80;
  }

  static Cond jccCond(byte[] b) {
    return Cond.of(b.length == 2 ? b[0] : b[1]);
  }
}
