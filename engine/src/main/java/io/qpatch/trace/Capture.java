package io.qpatch.trace;

/**
 * Bytes of the target's memory that decoding a value needs, to be read at the probe by a
 * backend that cannot come back for them later (uprobes: a tracefs fetch argument).
 *
 * @param register the {@link SampleRegs} slot the address starts from (an argument
 *     register, or SP for the stack)
 * @param offset added to that register: {@code length} bytes at {@code reg + offset}
 * @param length how many, at most {@link #MAX_LENGTH}
 * @param through the address is the word at {@code reg + offset}, plus {@code inner}
 *     (a string on the stack: its bytes are where its pointer points)
 * @param inner see {@code through}
 */
record Capture(int register, long offset, int length, boolean through, long inner) {
  /** The longest array a fetch argument can have (kernel/trace/trace_probe.h, MAX_ARRAY_LEN). */
  static final int MAX_LENGTH = 64;

  static Capture at(int register, long offset, int length) {
    return new Capture(register, offset, Math.min(length, MAX_LENGTH), false, 0);
  }

  static Capture through(int register, long offset, long inner, int length) {
    return new Capture(register, offset, Math.min(length, MAX_LENGTH), true, inner);
  }

  /**
   * The tracefs fetch argument (Documentation/trace/uprobetracer.rst): {@code
   * NAME=+OFF(%reg):u64}, {@code NAME=+INNER(+OFF(%reg)):u8[N]}.
   */
  String fetchArg(String name) {
    String base = signed(offset) + "(%" + kernelName(register) + ")";
    String where = through ? signed(inner) + "(" + base + ")" : base;
    return name + "=" + where + (length == 8 ? ":u64" : ":u8[" + length + "]");
  }

  private static String signed(long v) {
    return v < 0 ? "-" + (-v) : "+" + v;
  }

  /** The register's name in fetch arguments (arch/x86/kernel/ptrace.c, regoffset_table). */
  static String kernelName(int slot) {
    return switch (slot) {
      case SampleRegs.AX -> "ax";
      case SampleRegs.BX -> "bx";
      case SampleRegs.CX -> "cx";
      case SampleRegs.DX -> "dx";
      case SampleRegs.SI -> "si";
      case SampleRegs.DI -> "di";
      case SampleRegs.SP -> "sp";
      case SampleRegs.BP -> "bp";
      default -> {
        if (slot >= SampleRegs.R8 && slot <= SampleRegs.R15) yield "r" + (8 + slot - SampleRegs.R8);
        throw new IllegalArgumentException("no fetch-argument name for register slot " + slot);
      }
    };
  }
}
