package io.qpatch.link;

import io.qpatch.error.RefusedException;
import io.qpatch.error.SyscallException;
import io.qpatch.proc.Target;
import io.qpatch.sys.Syscall;
import java.util.ArrayList;
import java.util.List;

/**
 * Creates an object's memory in a stopped target and fills it, never making any mapping
 * writable and executable at once.
 *
 * <p>The memory is one memfd named "qpatch:NAME" (so /proc/PID/maps names it), mapped
 * MAP_SHARED segment by segment at fixed addresses with MAP_FIXED_NOREPLACE (never over an
 * existing mapping), after which the fd is closed: the mappings keep the file alive.
 *
 * <p>Why not write r-x memory through /proc/PID/mem directly: the kernel refuses a forced
 * write to a read-only shared mapping (mm/gup.c, check_vma_flags: FOLL_FORCE writes are
 * allowed only on private, copy-on-write mappings), and a private mapping would give the
 * target anonymous copies that no longer match the memfd. Instead a second mapping of the
 * same pages is made with {@code mremap(addr, 0, len, MREMAP_MAYMOVE)} (old_size 0
 * duplicates a shared mapping, mremap(2)), made rw- with mprotect (allowed: the memfd was
 * opened read-write, so the mapping may become writable), written through /proc/PID/mem,
 * and unmapped. The r-x mapping sees the bytes at once: both map the same page cache pages.
 */
final class SharedMemory {
  static final int MFD_CLOEXEC = 1;
  static final int MAP_SHARED = 0x01;
  static final int MAP_FIXED_NOREPLACE = 0x100000;
  private static final int MREMAP_MAYMOVE = 1;
  private static final int EEXIST = 17;

  private SharedMemory() {}

  /**
   * Maps the plan's segments; false (nothing left mapped) when an address is taken, which
   * MAP_FIXED_NOREPLACE reports as EEXIST.
   */
  static boolean map(Target target, LinkPlan plan) {
    int fd = target.memfdCreate(plan.options().memfdName(), MFD_CLOEXEC);
    List<Segment> mapped = new ArrayList<>();
    try {
      target.ftruncate(fd, plan.size());
      for (Segment s : plan.segments()) {
        long at = target.mmap(s.address(), s.size(), s.prot(), MAP_SHARED | MAP_FIXED_NOREPLACE,
            fd, s.fileOffset());
        if (at != s.address()) {
          target.munmap(at, s.size());
          throw new RefusedException(String.format("process %d: the kernel placed memory at 0x%x,"
              + " not at 0x%x: it lacks MAP_FIXED_NOREPLACE (Linux 4.17)", target.pid(), at,
              s.address()));
        }
        mapped.add(s);
      }
      return true;
    } catch (SyscallException e) {
      unmap(target, mapped);
      if (e.errno() == EEXIST) return false;
      throw e;
    } catch (RuntimeException e) {
      unmap(target, mapped);
      throw e;
    } finally {
      target.close(fd);
    }
  }

  /** Writes every segment's bytes; pages left zero need no write (a new memfd is zero). */
  static void fill(Target target, LinkPlan plan) {
    for (Segment s : plan.segments()) {
      byte[] bytes = plan.bytes(s);
      if (isZero(bytes)) continue;
      if (s.kind() == Segment.Kind.DATA) {
        target.write(s.address(), bytes);
      } else {
        writeThroughAlias(target, s.address(), bytes);
      }
    }
  }

  /** Writes {@code bytes} at {@code address} of a read-only shared mapping, see the class. */
  static void writeThroughAlias(Target target, long address, byte[] bytes) {
    long start = address & -Layout.PAGE;
    long length = Layout.align(address + bytes.length, Layout.PAGE) - start;
    long alias = target.syscall(Syscall.MREMAP, start, 0, length, MREMAP_MAYMOVE);
    if (alias < 0 && alias > -4096) {
      throw new SyscallException("mremap", target.pid(), (int) -alias, String.format(
          "process %d: mremap(0x%x, 0, %d) to write patch memory failed: errno %d", target.pid(),
          start, length, -alias));
    }
    try {
      target.mprotect(alias, length, Segment.PROT_READ | Segment.PROT_WRITE);
      target.write(alias + (address - start), bytes);
    } finally {
      target.munmap(alias, length);
    }
  }

  static void unmap(Target target, List<Segment> segments) {
    for (Segment s : segments) {
      try {
        target.munmap(s.address(), s.size());
      } catch (RuntimeException e) {
        // best effort while cleaning up after another failure
      }
    }
  }

  private static boolean isZero(byte[] bytes) {
    for (byte b : bytes) {
      if (b != 0) return false;
    }
    return true;
  }
}
