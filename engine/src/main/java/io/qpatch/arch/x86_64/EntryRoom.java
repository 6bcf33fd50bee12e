package io.qpatch.arch.x86_64;

import java.util.Arrays;

/**
 * Whether a jump of {@code need} bytes fits at a function's entry, and how many of the
 * function's own bytes it covers. A function at least that long has room. A shorter one
 * ({@code lea eax, [rdi+1]; ret}: getters, stubs, one-liners) has room when it ends its
 * flow (ret, jmp, ud2) before {@code need} bytes and what follows, up to {@code need}, is
 * alignment padding: nops or int3, which nothing executes, since the function returned
 * or jumped away before them. gcc pads functions with multi-byte nops up to the next
 * 16-byte boundary ({@code .p2align 4}), clang and ld with int3 or nops.
 *
 * <p>Both the patch engine (entry jumps) and the in-process tracer (probe jumps) ask here.
 */
public final class EntryRoom {
  private EntryRoom() {}

  /**
   * The function's own bytes a {@code need}-byte jump at {@code entry} covers: {@code
   * need}, or fewer when the function ends before and padding follows; -1 when there is no
   * room.
   *
   * @param code the bytes at {@code entry}: the function's, then those that follow it in
   *     memory (need + 15 in all let the longest padding nop decode whole)
   */
  public static int ownBytes(Decoder decoder, byte[] code, long entry, int need) {
    int own = 0;
    for (Instruction insn : decoder.decodeAtLeast(code, entry, Math.min(need, code.length))) {
      own += insn.length();
      if (insn.endsFlow() || own >= need) break;
    }
    if (own >= need) return need;
    if (own == 0) return -1;
    int padded = own;
    byte[] rest = Arrays.copyOfRange(code, own, code.length);
    for (Instruction insn : decoder.decodeAtLeast(rest, entry + own, need - own)) {
      if (padded >= need) break;
      if (!isPadding(insn)) return -1;
      padded += insn.length();
    }
    return padded >= need ? own : -1;
  }

  /** The function's bytes followed by those after it. */
  public static byte[] concat(byte[] function, byte[] after) {
    byte[] out = Arrays.copyOf(function, function.length + after.length);
    System.arraycopy(after, 0, out, function.length, after.length);
    return out;
  }

  private static boolean isPadding(Instruction insn) {
    return insn.isInt3() || insn.mnemonic().equals("nop");
  }
}
