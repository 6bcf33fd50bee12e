package io.qpatch.trace;

import io.qpatch.arch.x86_64.Cond;

/**
 * RFLAGS arithmetic for the instructions the ptrace backend carries out itself (Intel
 * SDM vol. 1, 3.4.3 "EFLAGS Register"; jcc conditions: vol. 2, appendix B.1.4.7).
 */
final class Flags {
  static final long CF = 1L;
  static final long PF = 1L << 2;
  static final long AF = 1L << 4;
  static final long ZF = 1L << 6;
  static final long SF = 1L << 7;
  static final long OF = 1L << 11;
  private static final long ARITH = CF | PF | AF | ZF | SF | OF;

  private Flags() {}

  /** Whether {@code cond} holds under {@code flags}. */
  static boolean holds(Cond cond, long flags) {
    boolean cf = (flags & CF) != 0;
    boolean zf = (flags & ZF) != 0;
    boolean sf = (flags & SF) != 0;
    boolean of = (flags & OF) != 0;
    boolean pf = (flags & PF) != 0;
    boolean base = switch (cond.code() >> 1) {
      case 0 -> of;
      case 1 -> cf;
      case 2 -> zf;
      case 3 -> cf || zf;
      case 4 -> sf;
      case 5 -> pf;
      case 6 -> sf != of;
      default -> zf || sf != of;
    };
    return (cond.code() & 1) == 0 ? base : !base;
  }

  /** {@code flags} with the arithmetic flags set as {@code sub a, b} (64-bit) sets them. */
  static long afterSub(long flags, long a, long b) {
    long r = a - b;
    long f = flags & ~ARITH;
    if (Long.compareUnsigned(a, b) < 0) f |= CF;
    if (r == 0) f |= ZF;
    if (r < 0) f |= SF;
    if (((a ^ b) & (a ^ r)) < 0) f |= OF;
    if ((Long.bitCount(r & 0xff) & 1) == 0) f |= PF;
    if (((a ^ b ^ r) & 0x10) != 0) f |= AF;
    return f;
  }
}
