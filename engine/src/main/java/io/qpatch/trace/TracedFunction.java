package io.qpatch.trace;

/**
 * A function of the traced program as the trace shows it.
 *
 * @param id index in the plan's function list
 * @param name the name printed: demangled for C++ unless asked not to, Go's full name
 * @param entry run-time address of its first instruction
 * @param size its length in bytes (0 when unknown)
 * @param abi where its arguments and results are
 * @param goroutineAware true when R14 holds the goroutine (Go's ABIInternal with a
 *     stack check): the goid can be read at [R14 + goid offset]
 */
public record TracedFunction(
    int id, String name, long entry, long size, Abi abi, boolean goroutineAware) {

  /** A Go function (register ABI). */
  public boolean isGo() {
    return abi == Abi.GO_REGS;
  }

  /** {@code name@0xentry}. */
  @Override
  public String toString() {
    return name + "@0x" + Long.toHexString(entry);
  }
}
