package io.qpatch.trace;

import io.qpatch.error.RefusedException;
import io.qpatch.error.SyscallException;
import io.qpatch.link.Placement;
import io.qpatch.sys.Errno;
import io.qpatch.sys.Mman;
import io.qpatch.proc.Target;
import io.qpatch.sys.Syscall;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * The in-process backend's memory in the target: the trampolines (anonymous, private,
 * r-x, written through /proc/PID/mem like the ptrace backend's out-of-line area) and
 * right after them the ring buffer (a memfd named {@code qpatch-trace-ring}, mapped
 * shared rw-). Never a mapping both writable and executable. Both lie within rel32 reach
 * of the probed code ({@link Placement}), so the trampolines address the ring
 * RIP-relative and the probes reach the trampolines with a 5-byte jmp.
 *
 * <p>Between the two lies one private anonymous page holding the "armed" byte the
 * trampolines test first, marked MADV_WIPEONFORK (Linux 4.14, mm/madvise.c): a child the
 * target forks gets it zeroed, so the child, which keeps the trampolines and would share
 * the ring, records nothing.
 *
 * <p>Our JVM maps the same memfd through /proc/PID/fd/N before the target closes it:
 * reading a record is a memory load, no syscall.
 */
final class InProcArea {
  static final String RING_NAME = "qpatch-trace-ring";
  private static final long PAGE = Mman.PAGE;
  private static final int PROT_READ_WRITE = Mman.PROT_READ | Mman.PROT_WRITE;
  private static final int PROT_READ_EXEC = Mman.PROT_READ | Mman.PROT_EXEC;
  private static final int MAP_PRIVATE_ANONYMOUS = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS;

  final long codeStart;
  final long codeSize;
  final long armedAt;
  final long ringStart;
  final long ringSize;
  private final Arena arena;
  private final MemorySegment local;

  private InProcArea(long codeStart, long codeSize, long ringSize, Arena arena, MemorySegment local) {
    this.codeStart = codeStart;
    this.codeSize = codeSize;
    this.armedAt = codeStart + codeSize;
    this.ringStart = armedAt + PAGE;
    this.ringSize = ringSize;
    this.arena = arena;
    this.local = local;
  }

  /**
   * Maps code and ring as close to {@code low} as there is room with {@code high} in reach
   * too (the lowest and highest probed entry); the target must be stopped. The ring's
   * header is written; the code is left for the caller.
   */
  static InProcArea create(Target target, long low, long high, long codeBytes, long capacity, InProcRing.Shape shape) {
    long codeSize = roundUp(codeBytes);
    long ringSize = InProcRing.fileSize(capacity, shape.stride());
    int fd = target.memfdCreate(RING_NAME, Mman.MFD_CLOEXEC);
    try {
      target.ftruncate(fd, ringSize);
      long at = Placement.mapNear(target.maps(), low, high, codeSize + PAGE + ringSize,
          base -> mapAt(target, base, codeSize, ringSize, fd), target.pid(), "the inproc trampolines and ring");
      Arena arena = Arena.ofShared();
      try {
        InProcArea area = new InProcArea(at, codeSize, ringSize, arena, mapLocally(target.pid(), fd, ringSize, arena));
        area.ring(capacity, shape).initialise();
        area.arm(target);
        return area;
      } catch (RuntimeException e) {
        arena.close();
        target.munmap(at, codeSize + PAGE + ringSize);
        throw e;
      }
    } finally {
      target.close(fd);
    }
  }

  /** The three mappings at {@code at}; false (nothing left mapped) when the range is taken. */
  private static boolean mapAt(Target target, long at, long codeSize, long ringSize, int fd) {
    long mapped = 0;
    try {
      mapped = mapOne(target, at, codeSize, PROT_READ_EXEC, MAP_PRIVATE_ANONYMOUS, -1, mapped);
      mapped = mapOne(target, at + mapped, PAGE, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, mapped);
      mapOne(target, at + mapped, ringSize, PROT_READ_WRITE, Mman.MAP_SHARED, fd, mapped);
      return true;
    } catch (SyscallException e) {
      if (mapped > 0) target.munmap(at, mapped);
      if (e.errno() == Errno.EEXIST) return false;
      throw e;
    } catch (RuntimeException e) {
      if (mapped > 0) target.munmap(at, mapped);
      throw e;
    }
  }

  /** One mapping of {@code size} bytes at exactly {@code at}; returns {@code before + size}. */
  private static long mapOne(Target target, long at, long size, int prot, int flags, int fd, long before) {
    checkPlaced(target, at, target.mmap(at, size, prot, flags | Mman.MAP_FIXED_NOREPLACE, fd, 0), size);
    return before + size;
  }

  /**
   * Sets the armed byte; a kernel without MADV_WIPEONFORK leaves forked children recording
   * (the backend then drops records of threads that are not the target's).
   */
  private void arm(Target target) {
    target.syscall(Syscall.MADVISE, armedAt, PAGE, Mman.MADV_WIPEONFORK);
    target.write(armedAt, new byte[] {1});
  }

  private static void checkPlaced(Target target, long wanted, long got, long size) {
    if (got == wanted) return;
    target.munmap(got, size);
    throw new RefusedException(String.format("process %d: the kernel placed memory at 0x%x, not at"
        + " 0x%x: it lacks MAP_FIXED_NOREPLACE (Linux 4.17)", target.pid(), got, wanted));
  }

  /** The target's memfd, opened through /proc/PID/fd and mapped shared into our JVM. */
  private static MemorySegment mapLocally(int pid, int fd, long size, Arena arena) {
    Path path = Path.of("/proc", Integer.toString(pid), "fd", Integer.toString(fd));
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      return ch.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
    } catch (IOException e) {
      throw new RefusedException("process " + pid + ": cannot map its trace ring " + path + ": " + e.getMessage());
    }
  }

  InProcRing ring(long capacity, InProcRing.Shape shape) {
    return new InProcRing(local, capacity, shape);
  }

  boolean containsCode(long pc) {
    return pc >= codeStart && pc < codeStart + codeSize;
  }

  /**
   * Unmaps both in the target unless a thread's pc lies in the trampolines (then they
   * stay, harmless: nothing jumps to them any more). The target must be stopped.
   *
   * @return true when unmapped
   */
  boolean releaseInTarget(Target target, List<Long> threadPcs) {
    for (long pc : threadPcs) if (containsCode(pc)) return false;
    target.munmap(codeStart, codeSize + PAGE + ringSize);
    return true;
  }

  /** Drops our JVM's view of the ring. */
  void closeLocal() {
    arena.close();
  }

  private static long roundUp(long n) {
    return Math.max(PAGE, (n + PAGE - 1) / PAGE * PAGE);
  }
}
