package io.qpatch.trace;

import io.qpatch.proc.Target;
import io.qpatch.sys.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A target's memory for probe handling: reads with process_vm_readv (no ptrace attach
 * needed, so the uprobe backend can use it too), writes through the attached {@link
 * Target} ({@code /proc/PID/mem}) when there is one. Not thread-safe: one per backend
 * thread.
 */
final class ProcessMemory implements TargetMemory {
  private final int pid;
  private final Target target;
  private final MemorySegment word = Arena.ofAuto().allocate(8, 8);
  private final MemorySegment iovecs = Arena.ofAuto().allocate(32, 8);
  private final MemorySegment buffer = Arena.ofAuto().allocate(SMALL, 8);

  /** Reads up to this size go through a preallocated buffer (no allocation per read). */
  private static final int SMALL = 4096;

  ProcessMemory(int pid, Target target) {
    this.pid = pid;
    this.target = target;
  }

  @Override
  public long read8(long address) {
    if (Libc.processVmRead(pid, address, word, iovecs) != 8) {
      throw new IllegalStateException("cannot read 8 bytes at 0x" + Long.toHexString(address));
    }
    return word.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
  }

  @Override
  public void write8(long address, long value) {
    if (target == null) throw new IllegalStateException("no attached target to write to");
    byte[] b = new byte[8];
    for (int i = 0; i < 8; i++) b[i] = (byte) (value >>> (8 * i));
    target.write(address, b);
  }

  @Override
  public byte[] read(long address, int length) {
    if (length == 0) return new byte[0];
    if (length <= SMALL) {
      MemorySegment dst = buffer.asSlice(0, length);
      if (Libc.processVmRead(pid, address, dst, iovecs) != length) {
        throw new IllegalStateException(
            "cannot read " + length + " bytes at 0x" + Long.toHexString(address));
      }
      return dst.toArray(ValueLayout.JAVA_BYTE);
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(length);
      long n = Libc.processVmRead(pid, address, buf);
      if (n != length) {
        throw new IllegalStateException(
            "cannot read " + length + " bytes at 0x" + Long.toHexString(address));
      }
      return buf.toArray(ValueLayout.JAVA_BYTE);
    }
  }
}
