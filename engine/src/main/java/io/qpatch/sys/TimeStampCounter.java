package io.qpatch.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Reads this CPU's time-stamp counter, the clock that code we place in a target reads
 * with {@code rdtsc} (the counter is machine-wide: one value for every process). Java has
 * no rdtsc, so a four-instruction function is mapped in our own process: written into a
 * private read-write page that is then made read-execute (never writable and executable
 * at once), and called through an FFM downcall.
 */
public final class TimeStampCounter {
  /**
   * {@code rdtsc} (0f 31, edx:eax = TSC, SDM vol. 2B); {@code shl rdx, 32} (48 c1 e2 20);
   * {@code or rax, rdx} (48 09 d0); {@code ret} (c3).
   */
  static final byte[] CODE = {
    0x0f, 0x31, 0x48, (byte) 0xc1, (byte) 0xe2, 0x20, 0x48, 0x09, (byte) 0xd0, (byte) 0xc3
  };

  private static final long PAGE = Mman.PAGE;
  private static final int PROT_READ = 0x1;
  private static final int PROT_WRITE = 0x2;
  private static final int PROT_EXEC = 0x4;
  /** MAP_PRIVATE | MAP_ANONYMOUS (linux/mman.h). */
  private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;

  private TimeStampCounter() {}

  private static final class Holder {
    static final MethodHandle MMAP = Libc.link("mmap",
        FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG),
        Libc.CAPTURE_ERRNO);
    static final MethodHandle MPROTECT = Libc.link("mprotect",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), Libc.CAPTURE_ERRNO);
    /** Never unmapped: one page for the life of the JVM. */
    static final MethodHandle READ = Linker.nativeLinker().downcallHandle(
        mapCode(), FunctionDescriptor.of(JAVA_LONG), Linker.Option.critical(false));
  }

  /** The counter now. */
  public static long read() {
    try {
      return (long) Holder.READ.invokeExact();
    } catch (Throwable t) {
      throw Libc.linkageBug(t);
    }
  }

  @SuppressWarnings("restricted") // the kernel maps exactly one page at the address it returns
  private static MemorySegment mapCode() {
    MemorySegment cap = Libc.capture();
    MemorySegment page;
    int r;
    try {
      page = (MemorySegment) Holder.MMAP.invokeExact(cap, MemorySegment.NULL, PAGE,
          PROT_READ | PROT_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L);
      if (page.address() == -1L) throw Libc.fail("mmap(rdtsc page)", 0, Libc.errno(cap));
      page = page.reinterpret(PAGE);
      MemorySegment.copy(CODE, 0, page, ValueLayout.JAVA_BYTE, 0, CODE.length);
      r = (int) Holder.MPROTECT.invokeExact(cap, page, PAGE, PROT_READ | PROT_EXEC);
    } catch (RuntimeException e) {
      throw e;
    } catch (Throwable t) {
      throw Libc.linkageBug(t);
    }
    if (r != 0) throw Libc.fail("mprotect(rdtsc page)", 0, Libc.errno(cap));
    return page;
  }
}
