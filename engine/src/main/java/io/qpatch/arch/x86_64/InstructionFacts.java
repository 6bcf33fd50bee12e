package io.qpatch.arch.x86_64;

import static io.qpatch.arch.x86_64.CapstoneIds.*;
import static io.qpatch.arch.x86_64.CapstoneStructs.CsDetail.*;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/** Turns one Capstone {@code cs_detail} into the facts an {@link Instruction} carries. */
final class InstructionFacts {
  private InstructionFacts() {}

  static Instruction build(Decoder decoder, Instruction.Core core, MemorySegment detail) {
    List<Operand> operands = operands(decoder, detail);
    int flags = flags(core.id(), groups(detail), operands);
    long target = (flags & Instruction.RELATIVE) != 0 ? branchTarget(operands) : 0;
    return new Instruction(core, flags, target, ripDisplacement(core, detail, operands),
        immediate(detail), operands, regsRead(decoder, detail, operands),
        regsWritten(decoder, detail, operands));
  }

  private static int groups(MemorySegment detail) {
    int count = Byte.toUnsignedInt((byte) GROUPS_COUNT.get(detail, 0L));
    int mask = 0;
    for (int i = 0; i < Math.min(count, 8); i++) {
      int group = Byte.toUnsignedInt((byte) GROUPS.get(detail, 0L, (long) i));
      if (group < 32) mask |= 1 << group;
    }
    return mask;
  }

  private static int flags(int id, int groups, List<Operand> operands) {
    int flags = 0;
    if (has(groups, X86_GRP_RET)) flags |= Instruction.RET | Instruction.NO_FALLTHROUGH;
    if (has(groups, X86_GRP_IRET)) flags |= Instruction.NO_FALLTHROUGH;
    if (has(groups, X86_GRP_CALL)) flags |= Instruction.CALL;
    if (id == X86_INS_JMP || id == X86_INS_LJMP) {
      flags |= Instruction.JMP | Instruction.NO_FALLTHROUGH;
    } else if (has(groups, X86_GRP_JUMP)) {
      flags |= Instruction.CONDITIONAL;
    }
    boolean immTarget = !operands.isEmpty() && operands.getFirst().type() == Operand.Type.IMM;
    if (has(groups, X86_GRP_BRANCH_RELATIVE) && immTarget) {
      flags |= Instruction.RELATIVE;
      // loop/loope/loopne are not in X86_GRP_JUMP in Capstone 4.0.2, yet may not branch.
      if ((flags & (Instruction.CALL | Instruction.JMP)) == 0) flags |= Instruction.CONDITIONAL;
    }
    if (id == X86_INS_INT3) flags |= Instruction.INT3;
    if (id == X86_INS_ENDBR64) flags |= Instruction.ENDBR64;
    if (id == X86_INS_UD2 || id == X86_INS_UD2B || id == X86_INS_HLT) {
      flags |= Instruction.NO_FALLTHROUGH;
    }
    return flags;
  }

  private static boolean has(int groups, int group) {
    return (groups & (1 << group)) != 0;
  }

  /** Capstone puts the absolute target of a relative branch in its immediate operand. */
  private static long branchTarget(List<Operand> operands) {
    return operands.getFirst().imm();
  }

  private static List<Operand> operands(Decoder decoder, MemorySegment detail) {
    int count = Math.min(Byte.toUnsignedInt((byte) OP_COUNT.get(detail, 0L)),
        CapstoneStructs.MAX_OPERANDS);
    List<Operand> out = new ArrayList<>(count);
    for (long i = 0; i < count; i++) {
      Operand op = operand(decoder, detail, i);
      if (op != null) out.add(op);
    }
    return out;
  }

  private static Operand operand(Decoder decoder, MemorySegment detail, long i) {
    int size = Byte.toUnsignedInt((byte) OP_SIZE.get(detail, 0L, i));
    int access = Byte.toUnsignedInt((byte) OP_ACCESS.get(detail, 0L, i));
    return switch ((int) OP_TYPE.get(detail, 0L, i)) {
      case X86_OP_REG -> new Operand(Operand.Type.REG,
          decoder.regName((int) OP_REG.get(detail, 0L, i)), 0, null, size, access);
      case X86_OP_IMM -> new Operand(Operand.Type.IMM, "", (long) OP_IMM.get(detail, 0L, i),
          null, size, access);
      case X86_OP_MEM ->
          new Operand(Operand.Type.MEM, "", 0, mem(decoder, detail, i), size, access);
      default -> null;
    };
  }

  private static Operand.Mem mem(Decoder decoder, MemorySegment detail, long i) {
    return new Operand.Mem(
        decoder.regName((int) OP_MEM_SEGMENT.get(detail, 0L, i)),
        decoder.regName((int) OP_MEM_BASE.get(detail, 0L, i)),
        decoder.regName((int) OP_MEM_INDEX.get(detail, 0L, i)),
        (int) OP_MEM_SCALE.get(detail, 0L, i),
        (long) OP_MEM_DISP.get(detail, 0L, i));
  }

  /**
   * The RIP-relative displacement and where it sits in the bytes. The relocator rewrites
   * exactly those bytes, so the position is checked twice: Capstone 4.0.2's
   * {@code encoding.disp_offset} is wrong after a 0x66 prefix and for some VEX forms
   * (seen on glibc 2.36's movdqa/andpd), so it is compared with the position the
   * encoding order implies (displacement, then immediate, then the end: Intel SDM vol. 2,
   * 2.1) and with the bytes themselves. Null without a RIP-relative operand; offset -1
   * when the two disagree and the bytes do not settle it.
   */
  private static Instruction.Displacement ripDisplacement(Instruction.Core core,
      MemorySegment detail, List<Operand> operands) {
    Operand.Mem mem = ripOperand(operands);
    if (mem == null) return null;
    byte[] bytes = core.bytes();
    int reported = Byte.toUnsignedInt((byte) DISP_OFFSET.get(detail, 0L));
    int fromEnd = bytes.length - Byte.toUnsignedInt((byte) IMM_SIZE.get(detail, 0L)) - 4;
    boolean reportedOk = holdsDisp(bytes, reported, mem.disp());
    boolean fromEndOk = holdsDisp(bytes, fromEnd, mem.disp());
    int offset = reportedOk && fromEndOk && reported != fromEnd ? -1
        : fromEndOk ? fromEnd : reportedOk ? reported : -1;
    return new Instruction.Displacement(offset, offset < 0 ? 0 : 4, mem.disp());
  }

  private static Operand.Mem ripOperand(List<Operand> operands) {
    for (Operand op : operands) {
      if (op.type() == Operand.Type.MEM && op.mem().isRipRelative()) return op.mem();
    }
    return null;
  }

  private static boolean holdsDisp(byte[] bytes, int offset, long disp) {
    return offset > 0 && offset + 4 <= bytes.length && readInt32(bytes, offset) == disp;
  }

  private static Instruction.Immediate immediate(MemorySegment detail) {
    int offset = Byte.toUnsignedInt((byte) IMM_OFFSET.get(detail, 0L));
    int size = Byte.toUnsignedInt((byte) IMM_SIZE.get(detail, 0L));
    return offset == 0 ? new Instruction.Immediate(-1, 0) : new Instruction.Immediate(offset, size);
  }

  static int readInt32(byte[] b, int offset) {
    return (b[offset] & 0xff) | (b[offset + 1] & 0xff) << 8 | (b[offset + 2] & 0xff) << 16
        | (b[offset + 3] & 0xff) << 24;
  }

  /**
   * Implicit reads ({@code cs_detail.regs_read}) then explicit ones: register operands
   * read, and the base and index of memory operands. The same union {@code cs_regs_access}
   * computes, without a second downcall per instruction.
   */
  private static List<String> regsRead(Decoder decoder, MemorySegment detail, List<Operand> ops) {
    List<String> out = implicit(decoder, detail, true);
    for (Operand op : ops) {
      if (op.type() == Operand.Type.REG && op.isRead()) addNew(out, op.reg());
      if (op.type() == Operand.Type.MEM) {
        addNew(out, op.mem().base());
        addNew(out, op.mem().index());
      }
    }
    return out;
  }

  /** Implicit writes ({@code cs_detail.regs_write}) then register operands written. */
  private static List<String> regsWritten(Decoder decoder, MemorySegment detail,
      List<Operand> ops) {
    List<String> out = implicit(decoder, detail, false);
    for (Operand op : ops) {
      if (op.type() == Operand.Type.REG && op.isWritten()) addNew(out, op.reg());
    }
    return out;
  }

  /** VarHandles are used as constants here: passed as arguments they would not be inlined. */
  private static List<String> implicit(Decoder decoder, MemorySegment detail, boolean read) {
    int count = Byte.toUnsignedInt(read
        ? (byte) REGS_READ_COUNT.get(detail, 0L) : (byte) REGS_WRITE_COUNT.get(detail, 0L));
    int n = Math.min(count, read ? 12 : 20);
    List<String> out = new ArrayList<>(n + 2);
    for (long i = 0; i < n; i++) {
      short id = read
          ? (short) REGS_READ.get(detail, 0L, i) : (short) REGS_WRITE.get(detail, 0L, i);
      addNew(out, decoder.regName(Short.toUnsignedInt(id)));
    }
    return out;
  }

  /** A handful of registers at most: a list scan beats a hash set here. */
  private static void addNew(List<String> out, String reg) {
    if (!reg.isEmpty() && !out.contains(reg)) out.add(reg);
  }
}
