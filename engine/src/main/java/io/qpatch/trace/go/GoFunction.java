package io.qpatch.trace.go;

/**
 * A function from the Go binary's pclntab: its name as the runtime prints it
 * ("main.work", "main.(*T).M", "runtime.newproc1") and its code range [entry, end), at
 * link-time addresses (Go executables are not PIE by default; add the load bias if they are).
 *
 * @param flag the {@code _func.flag} byte (runtime/runtime2.go), {@link #NO_FLAG} in tables
 *     too old to have one (Go 1.16 and before)
 */
public record GoFunction(String name, long entry, long end, int flag) {
  /** No flag byte in this table. */
  public static final int NO_FLAG = -1;
  /**
   * funcFlag_ASM: written in assembly (runtime/symtab.go in Go 1.19, internal/abi
   * FuncFlagAsm from 1.21; the bit is unused before 1.19, see {@link GoBinary#gAtEntry}).
   */
  static final int FLAG_ASM = 1 << 2;

  public GoFunction(String name, long entry, long end) {
    this(name, entry, end, NO_FLAG);
  }

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

  /** The table marks it as written in assembly (only meaningful from Go 1.19). */
  boolean isAsm() {
    return flag != NO_FLAG && (flag & FLAG_ASM) != 0;
  }
}
