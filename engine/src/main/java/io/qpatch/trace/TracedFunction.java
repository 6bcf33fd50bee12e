package io.qpatch.trace;

import io.qpatch.trace.go.GEntry;

/**
 * A function of the traced program as the trace shows it.
 *
 * @param id index in the plan's function list
 * @param name the name printed: demangled for C++ unless asked not to, Go's full name
 * @param entry run-time address of its first instruction
 * @param size its length in bytes (0 when unknown)
 * @param abi where its arguments and results are
 * @param g where the running goroutine's g is at the function's entry (Go); {@link
 *     GEntry#UNKNOWN} for C/C++
 * @param file the file it is in (the executable, or a shared library); null: the plan's
 *     executable
 */
public record TracedFunction(int id, String name, long entry, long size, Abi abi, GEntry g, String file) {
  /** A function of the plan's executable. */
  public TracedFunction(int id, String name, long entry, long size, Abi abi, GEntry g) {
    this(id, name, entry, size, abi, g, null);
  }

  /** The file it is in, {@code executable} when it is the plan's. */
  public String fileOr(String executable) {
    return file != null ? file : executable;
  }

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
