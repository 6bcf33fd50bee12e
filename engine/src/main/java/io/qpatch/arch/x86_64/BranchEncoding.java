package io.qpatch.arch.x86_64;

import java.util.Arrays;

/**
 * The shape of a relative branch, read from its bytes so that the relocator re-encodes
 * only forms it fully understands (Intel SDM vol. 2: JMP, CALL, Jcc, JRCXZ, LOOP).
 *
 * @param kind which family
 * @param cond the condition of a jcc, else null
 * @param opcode for {@link Kind#COUNT_LOOP}: the prefix and opcode bytes to re-emit
 *     ({@code 67} selects ecx instead of rcx); empty otherwise
 */
record BranchEncoding(Kind kind, Cond cond, byte[] opcode) {
  enum Kind {
    JMP,
    CALL,
    JCC,
    /** loop/loope/loopne/jrcxz/jecxz: rel8 only, no rel32 form exists. */
    COUNT_LOOP
  }

  /**
   * Parses {@code bytes}, or returns null for a form we do not re-encode (xbegin, a 0x66
   * operand-size prefix that truncates RIP to 16 bits on AMD, anything unexpected).
   * Branch-hint (2e/3e), bnd (f2) and REX prefixes change nothing in 64-bit mode and are
   * dropped.
   */
  static BranchEncoding parse(byte[] bytes) {
    int i = 0;
    boolean addr32 = false;
    while (i < bytes.length && isDroppablePrefix(bytes[i] & 0xff)) {
      addr32 |= (bytes[i] & 0xff) == 0x67;
      i++;
    }
    if (i >= bytes.length) return null;
    int op = bytes[i] & 0xff;
    int rest = bytes.length - i;
    if (op == 0xeb && rest == 2 || op == 0xe9 && rest == 5) return of(Kind.JMP, null);
    if (op == 0xe8 && rest == 5) return of(Kind.CALL, null);
    if (op >= 0x70 && op <= 0x7f && rest == 2) return of(Kind.JCC, Cond.of(op));
    if (op == 0x0f && rest == 6 && (bytes[i + 1] & 0xf0) == 0x80) {
      return of(Kind.JCC, Cond.of(bytes[i + 1]));
    }
    if (op >= 0xe0 && op <= 0xe3 && rest == 2) {
      byte[] opcode = addr32 ? new byte[] {0x67, (byte) op} : new byte[] {(byte) op};
      return new BranchEncoding(Kind.COUNT_LOOP, null, opcode);
    }
    return null;
  }

  private static boolean isDroppablePrefix(int b) {
    return b == 0x2e || b == 0x3e || b == 0xf2 || b == 0x67 || (b & 0xf0) == 0x40;
  }

  private static BranchEncoding of(Kind kind, Cond cond) {
    return new BranchEncoding(kind, cond, new byte[0]);
  }

  @Override
  public byte[] opcode() {
    return opcode.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BranchEncoding b && b.kind == kind && b.cond == cond
        && Arrays.equals(b.opcode, opcode);
  }

  @Override
  public int hashCode() {
    return kind.hashCode() * 31 + Arrays.hashCode(opcode);
  }
}
