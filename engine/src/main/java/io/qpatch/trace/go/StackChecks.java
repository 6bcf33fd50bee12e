package io.qpatch.trace.go;

import io.qpatch.arch.x86_64.Gpr;
import io.qpatch.arch.x86_64.Instruction;
import io.qpatch.arch.x86_64.Operand;
import java.util.List;

/** Recognises the prologue forms {@link StackCheck} describes in decoded instructions. */
final class StackChecks {
  /** stackguard0 and stackguard1 in runtime.g (runtime2.go: after the 16-byte stack). */
  private static final long STACKGUARD0 = 0x10;
  private static final long STACKGUARD1 = 0x18;

  private StackChecks() {}

  /** Analyses {@code insns}, decoded from the entry of {@code f}. */
  static StackCheck analyse(GoFunction f, List<Instruction> insns, GoAbi abi) {
    if (insns.isEmpty()) throw new IllegalArgumentException("no instructions for " + f);
    int i = 0;
    Gpr g = abi.gRegister().orElse(null);
    StackCheck.GSource source = g == null ? null : StackCheck.GSource.R14;
    int tls = tlsLoad(insns);
    if (tls > 0) {
      g = Gpr.from64(insns.get(tls - 1).operands().getFirst().reg());
      source = StackCheck.GSource.TLS;
      i = tls;
    }
    if (g == null) return none(f, insns);
    Match m = match(insns, i, g);
    if (m == null || m.compare + 1 >= insns.size()) return none(f, insns);
    Instruction branch = insns.get(m.compare + 1);
    if (!branch.isConditionalJump()) return none(f, insns);
    return new StackCheck(f, m.shape, insns.subList(0, m.compare + 2), insns.get(m.compare),
        branch, source, g, m.reserve);
  }

  private static StackCheck none(GoFunction f, List<Instruction> insns) {
    return new StackCheck(f, StackCheck.Shape.NONE, insns.subList(0, 1), null, null, null, null,
        0);
  }

  /**
   * How many leading instructions load g from TLS: 1 for {@code mov REG, fs:[-8]}, 2 for
   * the initial-exec form {@code mov REG, [rip+X]; mov REG, fs:[REG]}; 0 otherwise.
   */
  private static int tlsLoad(List<Instruction> insns) {
    Instruction first = insns.getFirst();
    if (isMovRegMem(first)) {
      Operand.Mem m = first.operands().get(1).mem();
      if (m.segment().equals("fs") && m.base().isEmpty() && m.disp() == GoAbi.G_TLS_OFFSET) {
        return 1;
      }
      if (m.isRipRelative() && insns.size() > 1 && isMovRegMem(insns.get(1))) {
        String reg = first.operands().getFirst().reg();
        Operand.Mem m2 = insns.get(1).operands().get(1).mem();
        if (m2.segment().equals("fs") && m2.base().equals(reg) && m2.disp() == 0) return 2;
      }
    }
    return 0;
  }

  private record Match(StackCheck.Shape shape, int compare, long reserve) {}

  private static Match match(List<Instruction> insns, int i, Gpr g) {
    if (isGuardCompare(at(insns, i), Gpr.RSP, g)) {
      return new Match(StackCheck.Shape.SMALL_FRAME, i, 0);
    }
    Instruction lea = at(insns, i);
    if (lea != null && lea.mnemonic().equals("lea") && lea.operands().size() == 2) {
      Gpr t = reg(lea.operands().get(0));
      Operand.Mem m = lea.operands().get(1).mem();
      if (t != null && m != null && m.base().equals("rsp") && m.index().isEmpty()
          && isGuardCompare(at(insns, i + 1), t, g)) {
        return new Match(StackCheck.Shape.LARGE_FRAME, i + 1, -m.disp());
      }
    }
    return matchHuge(insns, i, g);
  }

  private static Match matchHuge(List<Instruction> insns, int i, Gpr g) {
    Instruction mov = at(insns, i);
    Instruction sub = at(insns, i + 1);
    Instruction jb = at(insns, i + 2);
    if (mov == null || sub == null || jb == null || !mov.mnemonic().equals("mov")
        || mov.operands().size() != 2 || reg(mov.operands().get(1)) != Gpr.RSP) {
      return null;
    }
    Gpr t = reg(mov.operands().get(0));
    if (t == null || !sub.mnemonic().equals("sub") || sub.operands().size() != 2
        || reg(sub.operands().get(0)) != t || sub.operands().get(1).type() != Operand.Type.IMM
        || !jb.isConditionalJump() || !isGuardCompare(at(insns, i + 3), t, g)) {
      return null;
    }
    return new Match(StackCheck.Shape.HUGE_FRAME, i + 3, sub.operands().get(1).imm());
  }

  /** {@code cmp VALUE, qword ptr [G + 0x10]} (or +0x18). */
  private static boolean isGuardCompare(Instruction insn, Gpr value, Gpr g) {
    if (insn == null || !insn.mnemonic().equals("cmp") || insn.operands().size() != 2) {
      return false;
    }
    Operand.Mem m = insn.operands().get(1).mem();
    return reg(insn.operands().get(0)) == value && m != null && m.segment().isEmpty()
        && m.base().equals(g.name64()) && m.index().isEmpty()
        && (m.disp() == STACKGUARD0 || m.disp() == STACKGUARD1);
  }

  private static boolean isMovRegMem(Instruction insn) {
    return insn.mnemonic().equals("mov") && insn.operands().size() == 2
        && reg(insn.operands().get(0)) != null && insn.operands().get(1).mem() != null;
  }

  private static Gpr reg(Operand op) {
    return op.type() == Operand.Type.REG ? Gpr.from64(op.reg()) : null;
  }

  private static Instruction at(List<Instruction> insns, int i) {
    return i < insns.size() ? insns.get(i) : null;
  }
}
