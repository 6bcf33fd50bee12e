package io.qpatch.trace;

import io.qpatch.sys.PerfEvent;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.List;

/**
 * One CPU's perf ring buffer: a metadata page, then 2^n data pages the kernel writes
 * records into (linux/perf_event.h, "struct perf_event_mmap_page": read data_head with
 * acquire semantics, consume records, then publish data_tail with release semantics).
 * Records may wrap around the end of the data area.
 */
final class PerfRing {
  static final long PAGE = io.qpatch.sys.Mman.PAGE;

  private static final VarHandle LONG =
      ValueLayout.JAVA_LONG.varHandle();

  private final MemorySegment map;
  private final MemorySegment data;
  private final long mask;
  private final byte[] scratch = new byte[1 << 16];

  PerfRing(MemorySegment map) {
    this.map = map;
    this.data = map.asSlice(PAGE);
    this.mask = data.byteSize() - 1;
  }

  MemorySegment mapping() {
    return map;
  }

  /**
   * A sample as parsed.
   *
   * @param raw the tracepoint record (PERF_SAMPLE_RAW), empty when not sampled
   */
  record Sample(int pid, int tid, long time, long[] regs, byte[] raw) {
    /** The little-endian 64-bit word at {@code offset} of the raw record. */
    long rawLong(int offset) {
      return ValueFormat.getLong(raw, offset);
    }
  }

  /**
   * Appends the samples of every complete record written since the last call to {@code
   * out} (registers spread into {@link SampleRegs} slots); returns the number of samples
   * the kernel reported lost meanwhile.
   */
  long drain(List<Sample> out, long regMask, boolean raw) {
    long head = (long) LONG.getAcquire(map, PerfEvent.DATA_HEAD);
    long tail = (long) LONG.get(map, PerfEvent.DATA_TAIL);
    long lost = 0;
    while (tail < head) {
      copy(tail, 8);
      int type = readInt(0);
      int recordSize = (scratch[6] & 0xff) | (scratch[7] & 0xff) << 8;
      if (recordSize < 8 || recordSize > scratch.length) break;
      copy(tail, recordSize);
      if (type == PerfEvent.RECORD_SAMPLE) out.add(parseSample(regMask, raw));
      else if (type == PerfEvent.RECORD_LOST) lost += readLong(16);
      tail += recordSize;
    }
    LONG.setRelease(map, PerfEvent.DATA_TAIL, tail);
    return lost;
  }

  /**
   * PERF_SAMPLE_TID | TIME [| RAW] | REGS_USER, in the kernel's order (perf_output_sample):
   * pid, tid, time, [u32 size, raw bytes], abi, regs[popcount(mask)].
   */
  private Sample parseSample(long regMask, boolean hasRaw) {
    int pid = readInt(8);
    int tid = readInt(12);
    long time = readLong(16);
    int at = 24;
    byte[] raw = NO_RAW;
    if (hasRaw) {
      int size = readInt(at);
      raw = java.util.Arrays.copyOfRange(scratch, at + 4, at + 4 + size);
      at += 4 + size;
    }
    long abi = readLong(at);
    long[] packed = new long[abi == 0 ? 0 : Long.bitCount(regMask)];
    for (int i = 0; i < packed.length; i++) packed[i] = readLong(at + 8 + 8 * i);
    return new Sample(pid, tid, time, SampleRegs.unpack(packed, regMask), raw);
  }

  private static final byte[] NO_RAW = new byte[0];

  /** Copies {@code length} bytes at ring position {@code pos} into scratch, unwrapping. */
  private void copy(long pos, int length) {
    long off = pos & mask;
    long first = Math.min(length, data.byteSize() - off);
    MemorySegment.copy(data, ValueLayout.JAVA_BYTE, off, scratch, 0, (int) first);
    if (first < length) {
      MemorySegment.copy(data, ValueLayout.JAVA_BYTE, 0, scratch, (int) first, (int) (length - first));
    }
  }

  private int readInt(int at) {
    return (scratch[at] & 0xff) | (scratch[at + 1] & 0xff) << 8 | (scratch[at + 2] & 0xff) << 16
        | (scratch[at + 3] & 0xff) << 24;
  }

  private long readLong(int at) {
    return (readInt(at) & 0xffffffffL) | (long) readInt(at + 4) << 32;
  }
}
