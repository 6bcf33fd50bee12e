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
 * @param kind what the bytes are, which says whether they can be trusted to be readable
 * @param lengthRegister for {@link Kind#GO_STRING}, the register holding the string's
 *     length; -1 otherwise
 */
record Capture(int register, long offset, int length, boolean through, long inner, Kind kind, int lengthRegister) {
  /** The longest array a fetch argument can have (kernel/trace/trace_probe.h, MAX_ARRAY_LEN). */
  static final int MAX_LENGTH = 64;

  /** What is captured. */
  enum Kind {
    /** Bytes at an address nothing vouches for: read so that a bad one cannot fault. */
    RAW,
    /**
     * A NUL-terminated string: only the bytes up to the NUL mean anything, so a backend may
     * stop there (uprobes: the {@code string} type, which alone tells an unreadable
     * address from an empty string).
     */
    C_STRING,
    /**
     * A Go string's bytes: readable for its length whenever that is positive (Go's memory
     * safety: the string keeps its bytes alive and they are never unmapped), so a backend
     * may load them directly.
     */
    GO_STRING,
    /** A word behind a Go pointer that is readable whenever it is not nil (an itab's type). */
    GO_POINTER
  }

  static Capture at(int register, long offset, int length) {
    return new Capture(register, offset, Math.min(length, MAX_LENGTH), false, 0, Kind.RAW, -1);
  }

  static Capture through(int register, long offset, long inner, int length) {
    return new Capture(register, offset, Math.min(length, MAX_LENGTH), true, inner, Kind.RAW, -1);
  }

  /** A C string's first {@link #MAX_LENGTH} bytes at most, at the address in {@code register}. */
  static Capture cString(int register) {
    return new Capture(register, 0, MAX_LENGTH, false, 0, Kind.C_STRING, -1);
  }

  /** A C string whose address is the word at {@code [register + offset]}. */
  static Capture cStringThrough(int register, long offset) {
    return new Capture(register, offset, MAX_LENGTH, true, 0, Kind.C_STRING, -1);
  }

  /** A Go string's first {@link #MAX_LENGTH} bytes at most: data pointer and length in registers. */
  static Capture goString(int pointer, int length) {
    return new Capture(pointer, 0, MAX_LENGTH, false, 0, Kind.GO_STRING, length);
  }

  /** The word at {@code [register + offset]}, register a Go pointer (nil: nothing to read). */
  static Capture goPointer(int register, long offset) {
    return new Capture(register, offset, 8, false, 0, Kind.GO_POINTER, -1);
  }

  boolean cString() {
    return kind == Kind.C_STRING;
  }

  /**
   * The captured bytes of a C string whose readable part the backend gave as {@code
   * bytes}, NUL included: padded with zeros to {@link #length} (nothing after a NUL is
   * read), so that a decoder reading the whole length finds it.
   */
  byte[] padded(byte[] bytes) {
    return cString() && bytes.length < length ? java.util.Arrays.copyOf(bytes, length) : bytes;
  }

  /**
   * The tracefs fetch argument (Documentation/trace/uprobetracer.rst): {@code
   * NAME=+OFF(%reg):u64}, {@code NAME=+INNER(+OFF(%reg)):u8[N]}.
   */
  String fetchArg(String name) {
    String base = signed(offset) + "(%" + kernelName(register) + ")";
    String where = through ? signed(inner) + "(" + base + ")" : base;
    String type = cString() ? ":string" : length == 8 ? ":u64" : ":u8[" + length + "]";
    return name + "=" + where + type;
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
