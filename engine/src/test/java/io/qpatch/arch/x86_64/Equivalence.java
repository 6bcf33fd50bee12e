package io.qpatch.arch.x86_64;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

/**
 * Checks, by decoding only, that relocated code does what the displaced instructions did:
 * the same instructions in order, with every RIP-relative operand and relative branch
 * aimed at the same absolute address, then a jump back to the first byte not moved.
 */
final class Equivalence {
  private Equivalence() {}

  static void assertSameInstructions(RelocationCheck check, long address, byte[] out, long pc) {
    List<Instruction> original = check.instructions();
    List<Instruction> moved = Decoder.shared().decodeAll(out, pc);
    assertEquals(out.length, moved.stream().mapToInt(Instruction::length).sum(), "all bytes decode");
    for (int i = 0; i < original.size(); i++) {
      assertSame(original.get(i), moved.get(i));
    }
    int expected = original.size();
    if (!original.getLast().endsFlow()) {
      Instruction back = moved.get(expected++);
      assertTrue(back.isJmp() && back.isRelativeBranch(), "jump back: " + back);
      assertEquals(address + check.consumed(), back.branchTarget(), "jump back target");
    }
    assertEquals(expected, moved.size(), "nothing after the jump back");
  }

  private static void assertSame(Instruction o, Instruction r) {
    assertEquals(o.mnemonic(), r.mnemonic(), o + " became " + r);
    if (o.isRelativeBranch()) {
      assertEquals(o.branchTarget(), r.branchTarget(), o + " became " + r);
    } else if (o.hasRipRelativeOperand()) {
      assertEquals(o.ripTarget(), r.ripTarget(), o + " became " + r);
      assertEquals(o.ripDispOffset(), r.ripDispOffset());
      assertArrayEquals(withoutDisp(o), withoutDisp(r), o + " became " + r);
    } else {
      assertArrayEquals(o.bytes(), r.bytes(), o + " became " + r);
    }
  }

  private static byte[] withoutDisp(Instruction i) {
    byte[] b = i.bytes();
    for (int k = 0; k < 4; k++) b[i.ripDispOffset() + k] = 0;
    return b;
  }
}
