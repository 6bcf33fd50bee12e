package io.qpatch.link;

/**
 * One mapping of a loaded object: where it lies in the target, how large it is (a whole
 * number of pages), its protection, and the offset of its bytes in the object's memfd.
 */
public record Segment(Kind kind, long address, long size, long fileOffset) {

  /** What a segment holds; the protection follows from it and is never writable+executable. */
  public enum Kind {
    /** Code and PLT veneers: r-x. */
    TEXT(Segment.PROT_READ | Segment.PROT_EXEC),
    /** Read-only data, the GOT (filled once at load, like RELRO) and the init/fini arrays: r--. */
    RODATA(Segment.PROT_READ),
    /** .data, .bss, COMMON symbols and the object's own __dso_handle: rw-. */
    DATA(Segment.PROT_READ | Segment.PROT_WRITE);

    private final int prot;

    Kind(int prot) {
      this.prot = prot;
    }

    /** PROT_* bits for mmap(2). */
    public int prot() {
      return prot;
    }
  }

  /** asm-generic/mman-common.h */
  public static final int PROT_READ = 1;
  public static final int PROT_WRITE = 2;
  public static final int PROT_EXEC = 4;

  public int prot() {
    return kind.prot;
  }

  /** The permissions as /proc/PID/maps shows this shared mapping: "r-xs", "r--s", "rw-s". */
  public String perms() {
    int p = kind.prot;
    return ((p & PROT_READ) != 0 ? "r" : "-") + ((p & PROT_WRITE) != 0 ? "w" : "-")
        + ((p & PROT_EXEC) != 0 ? "x" : "-") + "s";
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
