package io.qpatch.arch.x86_64;

/**
 * Condition codes of jcc/setcc/cmovcc in encoding order: {@code 70+cc} (rel8) and
 * {@code 0f 80+cc} (rel32), Intel SDM vol. 2, appendix B.1.4.7. Flipping bit 0 negates
 * the condition.
 */
public enum Cond {
  O, NO, B, AE, E, NE, BE, A, S, NS, P, NP, L, GE, LE, G;

  public int code() {
    return ordinal();
  }

  /** The condition that holds exactly when this one does not. */
  public Cond inverse() {
    return values()[ordinal() ^ 1];
  }

  public static Cond of(int code) {
    return values()[code & 0xf];
  }
}
