package io.qpatch.symbols;

/**
 * Reads bytes from the target's address space. The symbols layer needs only a few reads
 * (the [vdso] image, the main program's dynamic section, the dynamic linker's link_map
 * chain), so any backend will do: {@link #ofProcess(int)} reads {@code /proc/PID/mem}; a
 * caller that already holds the process stopped may pass its own.
 */
@FunctionalInterface
public interface MemoryReader {
  /** Exactly {@code length} bytes at {@code address}; fails rather than return fewer. */
  byte[] read(long address, int length);

  /**
   * Reads through {@code /proc/PID/mem}. This works without a ptrace attach for a caller
   * that passes the kernel's PTRACE_MODE_ATTACH check (root, or the same user under
   * yama ptrace_scope 0): see proc_mem_open() in fs/proc/base.c.
   */
  static MemoryReader ofProcess(int pid) {
    return new ProcMem(pid);
  }
}
