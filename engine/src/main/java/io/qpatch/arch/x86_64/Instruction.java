package io.qpatch.arch.x86_64;

import java.util.HexFormat;
import java.util.List;

/**
 * One decoded x86-64 instruction: where it was, its bytes and text, and the facts the
 * relocator and the tracers act on. Immutable; {@link #bytes()} returns a copy.
 *
 * <p>Offsets ({@link #ripDispOffset()}, {@link #immOffset()}) are byte positions inside
 * {@link #bytes()}; -1 means "none".
 */
public final class Instruction {
  static final int RET = 1;
  static final int CALL = 1 << 1;
  static final int JMP = 1 << 2;
  static final int CONDITIONAL = 1 << 3;
  static final int RELATIVE = 1 << 4;
  static final int INT3 = 1 << 5;
  static final int ENDBR64 = 1 << 6;
  /** Execution never falls through to the next instruction: ret, jmp, ud2, hlt, iret. */
  static final int NO_FALLTHROUGH = 1 << 7;

  private final long address;
  private final byte[] bytes;
  private final int id;
  private final String mnemonic;
  private final String operandText;
  private final int flags;
  private final long branchTarget;
  private final Displacement rip;
  private final int immOffset;
  private final int immSize;
  private final List<Operand> operands;
  private final List<String> regsRead;
  private final List<String> regsWritten;

  /** Where a RIP-relative displacement sits in the bytes, and its value. */
  record Displacement(int offset, int size, long value) {}

  /** Byte positions of the immediate, -1/0 when there is none. */
  record Immediate(int offset, int size) {}

  Instruction(Core core, int flags, long branchTarget, Displacement rip, Immediate imm,
      List<Operand> operands, List<String> regsRead, List<String> regsWritten) {
    this.address = core.address();
    this.bytes = core.bytes().clone();
    this.id = core.id();
    this.mnemonic = core.mnemonic();
    this.operandText = core.operandText();
    this.flags = flags;
    this.branchTarget = branchTarget;
    this.rip = rip;
    this.immOffset = imm.offset();
    this.immSize = imm.size();
    this.operands = List.copyOf(operands);
    this.regsRead = List.copyOf(regsRead);
    this.regsWritten = List.copyOf(regsWritten);
  }

  /** What {@code cs_insn} holds without details. */
  record Core(long address, byte[] bytes, int id, String mnemonic, String operandText) {}

  /** Run-time address of its first byte. */
  public long address() {
    return address;
  }

  /** A copy of its bytes. */
  public byte[] bytes() {
    return bytes.clone();
  }

  /** The byte at {@code index} without copying the array. */
  public int byteAt(int index) {
    return bytes[index] & 0xff;
  }

  /** Length in bytes (1 to 15). */
  public int length() {
    return bytes.length;
  }

  /** The address just past this instruction, which RIP holds while it executes. */
  public long end() {
    return address + bytes.length;
  }

  /** Capstone's {@code x86_insn} id (x86.h of Capstone 4.0.2). */
  public int capstoneId() {
    return id;
  }

  /** As Capstone prints it in Intel syntax: "push", "je", "repz ret"... */
  public String mnemonic() {
    return mnemonic;
  }

  /** Capstone's operand text in Intel syntax, e.g. "qword ptr [rip + 0x2fe2]". */
  public String operandText() {
    return operandText;
  }

  /** ret, in any form. */
  public boolean isRet() {
    return (flags & RET) != 0;
  }

  /** call, direct or indirect. */
  public boolean isCall() {
    return (flags & CALL) != 0;
  }

  /** An unconditional jmp, relative or indirect. */
  public boolean isJmp() {
    return (flags & JMP) != 0;
  }

  /** jcc, jrcxz/jecxz, loop/loope/loopne. */
  public boolean isConditionalJump() {
    return (flags & CONDITIONAL) != 0;
  }

  /** A branch whose target is encoded relative to RIP (rel8/rel32). */
  public boolean isRelativeBranch() {
    return (flags & RELATIVE) != 0;
  }

  /** int3 (0xcc), a breakpoint. */
  public boolean isInt3() {
    return (flags & INT3) != 0;
  }

  /** endbr64, the CET landing pad. */
  public boolean isEndbr64() {
    return (flags & ENDBR64) != 0;
  }

  /** Execution never continues at {@link #end()}: ret, jmp, ud2, hlt, iret. */
  public boolean endsFlow() {
    return (flags & NO_FALLTHROUGH) != 0;
  }

  /**
   * The absolute target of a relative branch.
   *
   * @throws IllegalStateException if {@link #isRelativeBranch()} is false
   */
  public long branchTarget() {
    if (!isRelativeBranch()) throw new IllegalStateException("not a relative branch: " + this);
    return branchTarget;
  }

  /** True when a memory operand is addressed relative to RIP. */
  public boolean hasRipRelativeOperand() {
    return rip != null;
  }

  /** The encoded RIP-relative displacement (a signed 32-bit value). */
  public long ripDisplacement() {
    return requireRip().value();
  }

  /** Byte offset of the displacement inside {@link #bytes()}. */
  public int ripDispOffset() {
    return requireRip().offset();
  }

  /** Size in bytes of the displacement (4 in 64-bit mode). */
  public int ripDispSize() {
    return requireRip().size();
  }

  /** The absolute address the RIP-relative operand refers to: {@code end() + disp}. */
  public long ripTarget() {
    return end() + requireRip().value();
  }

  private Displacement requireRip() {
    if (rip == null) throw new IllegalStateException("no RIP-relative operand: " + this);
    return rip;
  }

  /** Byte offset of the immediate inside {@link #bytes()}, or -1. */
  public int immOffset() {
    return immOffset;
  }

  /** Size in bytes of the immediate, or 0. */
  public int immSize() {
    return immSize;
  }

  /** Its operands as Capstone decoded them. */
  public List<Operand> operands() {
    return operands;
  }

  /** Every register read, explicitly or implicitly ({@code cs_regs_access}). */
  public List<String> regsRead() {
    return regsRead;
  }

  /** Every register written, explicitly or implicitly ({@code cs_regs_access}). */
  public List<String> regsWritten() {
    return regsWritten;
  }

  /** Like objdump: {@code 0x401000: 48 89 e5  mov rbp, rsp}. */
  @Override
  public String toString() {
    String text = operandText.isEmpty() ? mnemonic : mnemonic + " " + operandText;
    return "0x" + Long.toHexString(address) + ": " + HexFormat.ofDelimiter(" ").formatHex(bytes)
        + "  " + text;
  }
}
