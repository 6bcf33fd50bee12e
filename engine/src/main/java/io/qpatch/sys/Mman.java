package io.qpatch.sys;

/**
 * Memory-mapping facts of Linux x86-64, defined once: page size, mmap(2) protections and
 * flags (asm-generic/mman-common.h, linux/mman.h), memfd_create(2) and madvise(2) flags.
 */
public final class Mman {
  /** The base page size on x86-64 (arch/x86/include/asm/page_types.h, PAGE_SHIFT 12). */
  public static final long PAGE = 4096;

  public static final int PROT_READ = 0x1;
  public static final int PROT_WRITE = 0x2;
  public static final int PROT_EXEC = 0x4;

  public static final int MAP_SHARED = 0x01;
  public static final int MAP_PRIVATE = 0x02;
  public static final int MAP_ANONYMOUS = 0x20;
  /** Exactly there and never over an existing mapping: EEXIST instead (Linux 4.17). */
  public static final int MAP_FIXED_NOREPLACE = 0x100000;

  public static final int MFD_CLOEXEC = 0x1;
  /** The range reads as zero in a child after fork(2) (Linux 4.14). */
  public static final int MADV_WIPEONFORK = 18;

  private Mman() {}

  /** {@code bytes} rounded up to whole pages. */
  public static long pages(long bytes) {
    return (bytes + PAGE - 1) & -PAGE;
  }
}
