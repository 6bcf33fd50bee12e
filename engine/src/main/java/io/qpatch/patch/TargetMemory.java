package io.qpatch.patch;

import io.qpatch.proc.MemfdFile;
import io.qpatch.error.SyscallException;
import io.qpatch.link.ObjectMemory;
import io.qpatch.proc.Mapping;
import io.qpatch.proc.Target;
import io.qpatch.sys.Errno;
import io.qpatch.sys.Mman;
import java.util.List;

/**
 * The target-side memory operations of the patch engine, each one counted as a {@link
 * Checkpoints checkpoint}. Mappings are made from a named memfd so that {@code
 * /proc/PID/maps} shows what qpatch added ({@code /memfd:qpatch:NAME:KIND}).
 *
 * <p>Each system call (memfd_create, mmap, munmap, close) and each call runs in a hold of
 * one thread of its own ({@link Stops#held}), the others running on, so that no thread is
 * held for more than one of them; inside a caller's hold or stop of every thread, it runs
 * there. Memfds are sized and filled from our side ({@link MemfdFile}).
 *
 * <p>Stub areas are mapped r-x MAP_PRIVATE and written through {@code /proc/PID/mem}: the
 * kernel allows that forced write on a private mapping (it copies the page, mm/gup.c
 * check_vma_flags), so no page is ever writable and executable at once. The record is
 * mapped rw- MAP_SHARED.
 */
public final class TargetMemory implements ObjectMemory {
  /** The memfd prefix of everything qpatch maps for patches: "qpatch:". */
  static final String PREFIX = "qpatch:";

  private final Target target;

  /** Public for the loader's tests, which load through this as patches do. */
  public TargetMemory(Target target) {
    this.target = target;
  }

  Target target() {
    return target;
  }

  @Override
  public int pid() {
    return target.pid();
  }

  @Override
  public List<Mapping> maps() {
    return target.maps();
  }

  /** Writes {@code bytes} at {@code address} (one pwrite), then counts it. */
  void write(long address, byte[] bytes, String what) {
    target.write(address, bytes);
    Checkpoints.passed("write", what);
  }

  /**
   * A new memfd of {@code length} bytes named {@code name}, made by the held (or stopped)
   * target and sized from our side; close {@link Memfd#fd()} in the target once it is
   * mapped, and the file here once it is filled.
   */
  @Override
  public Memfd memfd(String name, long length) {
    int fd = Stops.held(target, "memfd_create " + name, () -> {
      int created = target.memfdCreate(name, Mman.MFD_CLOEXEC);
      Checkpoints.passed("memfd_create", name);
      return created;
    });
    MemfdFile file = null;
    try {
      file = MemfdFile.open(target.pid(), fd, "memfd " + name);
      file.setLength(length);
      return new Memfd(fd, file);
    } catch (RuntimeException e) {
      if (file != null) file.close();
      closeQuietly(fd, e);
      throw e;
    }
  }

  /** Writes {@code bytes} at {@code offset} of a memfd from our side, then counts it. */
  @Override
  public void fill(MemfdFile file, long offset, byte[] bytes, String what) {
    file.write(offset, bytes);
    Checkpoints.passed("write", what);
  }

  /**
   * Maps {@code length} bytes of {@code fd} from {@code offset} at {@code address} (0:
   * anywhere; else exactly there, never over a mapping). Returns the address, or 0 when the
   * address was taken.
   */
  @Override
  public long map(int fd, long offset, long length, int prot, int flags, long address, String what) {
    try {
      int fixed = address == 0 ? 0 : Mman.MAP_FIXED_NOREPLACE;
      long at = Stops.held(target, "mmap " + what, () -> {
        long mapped = target.mmap(address, length, prot, flags | fixed, fd, offset);
        Checkpoints.passed("mmap", what);
        return mapped;
      });
      if (address != 0 && at != address) {
        unmap(at, length, what);
        return 0;
      }
      return at;
    } catch (SyscallException e) {
      if (e.errno() == Errno.EEXIST) return 0;
      throw e;
    }
  }

  /** Closes the target's {@code fd}: its mappings keep the memfd alive. */
  @Override
  public void close(int fd, String what) {
    Stops.held(target, "close " + what, () -> {
      target.close(fd);
      Checkpoints.passed("close memfd", what);
      return null;
    });
  }

  private void closeQuietly(int fd, RuntimeException cause) {
    try {
      close(fd, "memfd");
    } catch (RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  @Override
  public void unmap(long address, long length, String what) {
    Stops.held(target, "munmap " + what, () -> {
      target.munmap(address, length);
      Checkpoints.passed("munmap", what);
      return null;
    });
  }

  /** Calls {@code function} in the target (stopped, or a thread held) with {@code args}; returns rax. */
  long call(long function, String what, long... args) {
    return Stops.held(target, "call " + what, () -> {
      long result = target.callFunction(function, args);
      Checkpoints.passed("call", what);
      return result;
    });
  }

}
