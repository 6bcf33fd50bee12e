package io.qpatch.trace;

/**
 * Where a function finds its integer arguments and leaves its results: which sampled
 * registers ({@link SampleRegs} slots) a call line and a return line show.
 */
public enum Abi {
  /**
   * Go's internal register ABI (Go >= 1.17, src/cmd/compile/abi-internal.md, "amd64
   * architecture"): integer arguments and results in RAX, RBX, RCX, RDI, RSI, R8, R9,
   * R10, R11; R14 holds the current goroutine's g.
   */
  GO_REGS(
      new int[] {SampleRegs.AX, SampleRegs.BX, SampleRegs.CX, SampleRegs.DI, SampleRegs.SI,
          SampleRegs.R8, SampleRegs.R9, SampleRegs.R10, SampleRegs.R11},
      new int[] {SampleRegs.AX, SampleRegs.BX, SampleRegs.CX, SampleRegs.DI, SampleRegs.SI,
          SampleRegs.R8, SampleRegs.R9, SampleRegs.R10, SampleRegs.R11}),
  /**
   * The System V psABI (x86-64 psABI 3.2.3): integer arguments in RDI, RSI, RDX, RCX, R8,
   * R9; results in RAX and RDX.
   */
  SYSV(
      new int[] {SampleRegs.DI, SampleRegs.SI, SampleRegs.DX, SampleRegs.CX, SampleRegs.R8,
          SampleRegs.R9},
      new int[] {SampleRegs.AX, SampleRegs.DX});

  private final int[] args;
  private final int[] results;

  Abi(int[] args, int[] results) {
    this.args = args;
    this.results = results;
  }

  /** The argument registers in order, as {@link SampleRegs} slots. */
  public int[] argumentSlots() {
    return args.clone();
  }

  /** The result registers in order, as {@link SampleRegs} slots. */
  public int[] resultSlots() {
    return results.clone();
  }
}
