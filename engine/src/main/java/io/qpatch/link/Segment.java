package io.qpatch.link;

import io.qpatch.sys.Mman;

/**
 * One mapping of a loaded object: where it lies in the target, how large it is (a whole
 * number of pages), its protection, and the offset of its bytes in the object's memfd.
 */
public record Segment(Kind kind, long address, long size, long fileOffset) {

  /** What a segment holds; the protection follows from it and is never writable+executable. */
  public enum Kind {
    /** Code and PLT veneers: r-x. */
    TEXT(Mman.PROT_READ | Mman.PROT_EXEC),
    /** Read-only data, the GOT (filled once at load, like RELRO) and the init/fini arrays: r--. */
    RODATA(Mman.PROT_READ),
    /** .data, .bss, COMMON symbols and the object's own __dso_handle: rw-. */
    DATA(Mman.PROT_READ | Mman.PROT_WRITE);

    private final int prot;

    Kind(int prot) {
      this.prot = prot;
    }

    /** PROT_* bits for mmap(2). */
    public int prot() {
      return prot;
    }
  }

  public int prot() {
    return kind.prot;
  }

  /** The permissions as /proc/PID/maps shows this shared mapping: "r-xs", "r--s", "rw-s". */
  public String perms() {
    int p = kind.prot;
    return ((p & Mman.PROT_READ) != 0 ? "r" : "-") + ((p & Mman.PROT_WRITE) != 0 ? "w" : "-")
        + ((p & Mman.PROT_EXEC) != 0 ? "x" : "-") + "s";
  }

  public long end() {
    return address + size;
  }

  public boolean contains(long a) {
    return Long.compareUnsigned(a - address, size) < 0;
  }

  @Override
  public String toString() {
    return String.format("%s 0x%x-0x%x %s", kind, address, end(), perms());
  }
}
