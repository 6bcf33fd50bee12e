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
}
