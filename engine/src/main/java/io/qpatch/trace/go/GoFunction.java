package io.qpatch.trace.go;

/**
 * A function from the Go binary's pclntab: its name as the runtime prints it
 * ("main.work", "main.(*T).M", "runtime.newproc1") and its code range [entry, end), at
 * link-time addresses (Go executables are not PIE by default; add the load bias if they are).
 */
public record GoFunction(String name, long entry, long end) {
  public long size() {
    return end - entry;
  }

  public boolean contains(long pc) {
    return Long.compareUnsigned(pc, entry) >= 0 && Long.compareUnsigned(pc, end) < 0;
  }

  @Override
  public String toString() {
    return String.format("%s [0x%x, 0x%x)", name, entry, end);
  }
}
