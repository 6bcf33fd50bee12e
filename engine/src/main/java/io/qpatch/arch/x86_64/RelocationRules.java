package io.qpatch.arch.x86_64;

import java.util.HexFormat;
import java.util.List;

/** What {@link Relocator} refuses, and how it rewrites one instruction for a new pc. */
final class RelocationRules {
  private RelocationRules() {}

  /** A reason an instruction cannot be written at the trampoline's pc. */
  static final class CannotRelocate extends Exception {
    CannotRelocate(String reason) {
      super(reason);
    }
  }

  /**
   * Refusals that depend only on the displaced instructions, or null. {@code insns} is
   * what the decoder produced for the first {@code minBytes}, possibly cut short.
   */
  static String checkDisplaced(byte[] code, long address, int minBytes, List<Instruction> insns) {
    int covered = 0;
    for (Instruction insn : insns) {
      String refusal = checkOne(insn);
      if (refusal != null) return refusal;
      covered += insn.length();
      if (insn.endsFlow() && covered < minBytes) {
        return "function too short: " + describe(insn) + " ends it after " + covered
            + " bytes, " + minBytes + " needed";
      }
    }
    if (covered >= minBytes) return null;
    if (code.length < minBytes) {
      return "only " + code.length + " bytes of code given, " + minBytes + " needed";
    }
    int end = Math.min(code.length, covered + Decoder.MAX_INSTRUCTION_LENGTH);
    return "cannot decode the instruction at " + hex(address + covered) + " (bytes "
        + HexFormat.ofDelimiter(" ").formatHex(code, covered, end) + ")";
  }

  private static String checkOne(Instruction insn) {
    if (insn.isInt3()) {
      return "int3 at " + hex(insn.address())
          + ": a breakpoint is set here (a debugger, a tracer or qpatch's breakpoint backend);"
          + " remove it first";
    }
    if (insn.isRelativeBranch() && BranchEncoding.parse(insn.bytes()) == null) {
      return notReencoded(insn);
    }
    if (insn.hasRipRelativeOperand() && insn.ripDispOffset() < 0) {
      return "cannot locate the RIP-relative displacement of " + describe(insn);
    }
    boolean eipRelative = insn.operands().stream()
        .anyMatch(o -> o.type() == Operand.Type.MEM && o.mem().base().equals("eip"));
    return eipRelative ? describe(insn) + " addresses memory relative to EIP" : null;
  }

  /** A displaced relative branch whose target is inside the displaced bytes, or null. */
  static String checkBranchesInto(List<Instruction> insns, long address, int consumed) {
    for (Instruction insn : insns) {
      if (insn.isRelativeBranch() && inside(insn.branchTarget(), address, address + consumed)) {
        return describe(insn) + " branches into the " + consumed + " displaced bytes";
      }
    }
    return null;
  }

  /**
   * A later relative branch that lands strictly inside the displaced bytes, or null. A
   * branch to {@code address} itself is fine: it enters through the hook, like a call.
   */
  static String checkBranchesBack(List<Instruction> later, long address, int consumed) {
    for (Instruction insn : later) {
      if (insn.isRelativeBranch() && inside(insn.branchTarget(), address + 1, address + consumed)) {
        return describe(insn) + " branches back into the " + consumed + " displaced bytes from "
            + hex(address);
      }
    }
    return null;
  }

  private static boolean inside(long target, long from, long to) {
    return target >= from && target < to;
  }

  /** Writes {@code insn} so that it does at {@code out.pc()} what it did at its address. */
  static void writeOne(Instruction insn, X86Writer out) throws CannotRelocate {
    if (insn.isRelativeBranch()) {
      writeBranch(insn, out);
    } else if (insn.hasRipRelativeOperand()) {
      writeRipRelative(insn, out);
    } else {
      out.putBytes(insn.bytes());
    }
  }

  private static void writeBranch(Instruction insn, X86Writer out) throws CannotRelocate {
    BranchEncoding enc = BranchEncoding.parse(insn.bytes());
    if (enc == null) throw new CannotRelocate(notReencoded(insn));
    long target = insn.branchTarget();
    switch (enc.kind()) {
      case JMP -> out.putJmpAddress(target);
      case CALL -> out.putCallAddress(target);
      case JCC -> writeJcc(enc.cond(), target, out);
      case COUNT_LOOP -> writeCountLoop(enc.opcode(), target, out);
    }
  }

  /** {@code jcc rel32}, or out of reach {@code j!cc over; jmp [rip]; .quad target; over:}. */
  private static void writeJcc(Cond cond, long target, X86Writer out) {
    if (X86Writer.fitsInt32(target - (out.pc() + 6))) {
      out.putJccRel32(cond, target);
      return;
    }
    X86Writer.Label over = out.newLabel();
    out.putJccShortLabel(cond.inverse(), over);
    out.putJmpAbsIndirect(target);
    out.putLabel(over);
  }

  /**
   * loop/jrcxz have only a rel8 form: {@code loop taken; jmp over; taken: jmp target; over:}.
   * The rel8 of 2 steps over the 2-byte short jmp.
   */
  private static void writeCountLoop(byte[] opcode, long target, X86Writer out) {
    X86Writer.Label over = out.newLabel();
    out.putBytes(opcode);
    out.putU8(2);
    out.putJmpShortLabel(over);
    out.putJmpAddress(target);
    out.putLabel(over);
  }

  private static void writeRipRelative(Instruction insn, X86Writer out) throws CannotRelocate {
    long disp = insn.ripTarget() - (out.pc() + insn.length());
    if (X86Writer.fitsInt32(disp)) {
      byte[] bytes = insn.bytes();
      for (int i = 0; i < 4; i++) bytes[insn.ripDispOffset() + i] = (byte) (disp >>> (8 * i));
      out.putBytes(bytes);
    } else if (!RipRewrite.tryWrite(insn, out)) {
      throw new CannotRelocate(describe(insn) + " refers to " + hex(insn.ripTarget())
          + ", out of rel32 reach (+-2 GiB) of the trampoline at " + hex(out.pc())
          + "; place the trampoline nearer");
    }
  }

  private static String notReencoded(Instruction insn) {
    return describe(insn) + " is a relative form qpatch does not re-encode";
  }

  /** {@code `je 0x1010` at 0x1000}. */
  static String describe(Instruction insn) {
    String text = insn.operandText().isEmpty()
        ? insn.mnemonic() : insn.mnemonic() + " " + insn.operandText();
    return "`" + text + "` at " + hex(insn.address());
  }

  static String hex(long value) {
    return "0x" + Long.toHexString(value);
  }
}
