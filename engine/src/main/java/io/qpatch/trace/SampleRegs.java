package io.qpatch.trace;

import io.qpatch.sys.Reg;
import io.qpatch.sys.Registers;

/**
 * The registers a probe hit records, as one {@code long[]} in the order of the kernel's
 * perf register numbers (arch/x86/include/uapi/asm/perf_regs.h: AX, BX, CX, DX, SI, DI,
 * BP, SP, IP, FLAGS, CS, SS, DS, ES, FS, GS, R8..R15). The uprobe backend gets exactly
 * this from PERF_SAMPLE_REGS_USER; the ptrace backend fills it from user_regs_struct.
 * Backends and output share one register vocabulary this way.
 */
public final class SampleRegs {
  public static final int AX = 0;
  public static final int BX = 1;
  public static final int CX = 2;
  public static final int DX = 3;
  public static final int SI = 4;
  public static final int DI = 5;
  public static final int BP = 6;
  public static final int SP = 7;
  public static final int IP = 8;
  public static final int FLAGS = 9;
  public static final int R8 = 16;
  public static final int R9 = 17;
  public static final int R10 = 18;
  public static final int R11 = 19;
  public static final int R12 = 20;
  public static final int R13 = 21;
  public static final int R14 = 22;
  public static final int R15 = 23;
  /**
   * The fs base (the thread pointer, where Go finds g in TLS): not a perf register (perf
   * numbers end at 23), filled by the ptrace backend from user_regs_struct.fs_base.
   */
  public static final int FS_BASE = 24;
  /**
   * The low 64 bits of XMM0..XMM15 (where float64 and float32 arguments and results are:
   * Go's X0-X14, SysV's XMM0-7), at X0 + n; not perf registers either: filled by backends
   * that can read them (ptrace through PTRACE_GETFPREGS) when decoding needs them.
   */
  public static final int X0 = 25;
  public static final int XMM_COUNT = 16;
  /** Number of slots: perf register numbers 0..23, {@link #FS_BASE}, X0..X15. */
  public static final int COUNT = X0 + XMM_COUNT;
  /**
   * Slots of a sample without X registers (uprobe, inproc: those backends refuse to decode
   * floats), which the hot path allocates per hit.
   */
  public static final int GPR_COUNT = X0;

  /** The perf numbers we sample: all general registers, IP and FLAGS (no segments). */
  public static final long PERF_MASK = maskOf(AX, BX, CX, DX, SI, DI, BP, SP, IP, FLAGS,
      R8, R9, R10, R11, R12, R13, R14, R15);

  private static final Reg[] FROM_PTRACE = new Reg[COUNT];

  static {
    Reg[] order = {Reg.RAX, Reg.RBX, Reg.RCX, Reg.RDX, Reg.RSI, Reg.RDI, Reg.RBP, Reg.RSP,
        Reg.RIP, Reg.EFLAGS};
    System.arraycopy(order, 0, FROM_PTRACE, 0, order.length);
    Reg[] high = {Reg.R8, Reg.R9, Reg.R10, Reg.R11, Reg.R12, Reg.R13, Reg.R14, Reg.R15};
    System.arraycopy(high, 0, FROM_PTRACE, R8, high.length);
    FROM_PTRACE[FS_BASE] = Reg.FS_BASE;
  }

  private SampleRegs() {}

  static long maskOf(int... regs) {
    long m = 0;
    for (int r : regs) m |= 1L << r;
    return m;
  }

  /** A sample from ptrace's registers; segment slots stay 0. */
  public static long[] of(Registers regs) {
    long[] out = new long[COUNT];
    for (int i = 0; i < COUNT; i++) {
      if (FROM_PTRACE[i] != null) out[i] = regs.get(FROM_PTRACE[i]);
    }
    return out;
  }

  /** Spreads {@code packed} (the sampled registers in ascending perf number) into slots. */
  public static long[] unpack(long[] packed, long mask) {
    long[] out = new long[GPR_COUNT];
    int j = 0;
    for (int i = 0; i < GPR_COUNT && j < packed.length; i++) {
      if ((mask & (1L << i)) != 0) out[i] = packed[j++];
    }
    return out;
  }
}
