package io.qpatch.trace;

/** The few memory accesses probe handling needs in the target. */
public interface TargetMemory {
  /** The little-endian 64-bit value at {@code address}. */
  long read8(long address);

  void write8(long address, long value);

  /** {@code length} bytes at {@code address}; fails if any is unmapped. */
  byte[] read(long address, int length);
}
