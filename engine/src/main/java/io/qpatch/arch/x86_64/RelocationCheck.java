package io.qpatch.arch.x86_64;

import java.util.List;

/**
 * The answer of {@link Relocator#canRelocate}: either the whole instructions that cover
 * the bytes to displace, or why they cannot be moved.
 *
 * @param consumed bytes from the function start up to an instruction boundary, at least
 *     the minimum asked for; 0 when refused
 * @param instructions the instructions in those bytes; empty when refused
 * @param refusal why relocation is unsafe, one line naming the address; null when ok
 */
public record RelocationCheck(int consumed, List<Instruction> instructions, String refusal) {
  public RelocationCheck {
    instructions = List.copyOf(instructions);
  }

  static RelocationCheck ok(int consumed, List<Instruction> instructions) {
    return new RelocationCheck(consumed, instructions, null);
  }

  static RelocationCheck refused(String reason) {
    return new RelocationCheck(0, List.of(), reason);
  }

  public boolean isOk() {
    return refusal == null;
  }

  /**
   * An upper bound on what {@link Relocator#relocate} writes for these instructions at any
   * pc, jump back included, to size a trampoline before its address is known. The worst
   * cases are the absolute forms: {@code jmp [rip]; .quad} (14), {@code call [rip+2]; jmp;
   * .quad} (16), {@code j!cc; jmp [rip]; .quad} (16), {@code loop; jmp; jmp [rip]; .quad}
   * (18), {@code movabs; mov r,[r]} (14).
   */
  public int maxRelocatedSize() {
    if (!isOk()) return 0;
    int size = instructions.getLast().endsFlow() ? 0 : X86Writer.JMP_ABS_INDIRECT_SIZE;
    for (Instruction insn : instructions) size += maxSize(insn);
    return size;
  }

  private static int maxSize(Instruction insn) {
    if (insn.isRelativeBranch()) {
      BranchEncoding enc = BranchEncoding.parse(insn.bytes());
      return switch (enc.kind()) {
        case JMP -> X86Writer.JMP_ABS_INDIRECT_SIZE;
        case CALL, JCC -> 2 + X86Writer.JMP_ABS_INDIRECT_SIZE;
        case COUNT_LOOP -> enc.opcode().length + 3 + X86Writer.JMP_ABS_INDIRECT_SIZE;
      };
    }
    return insn.hasRipRelativeOperand() ? Math.max(insn.length(), 14) : insn.length();
  }
}
