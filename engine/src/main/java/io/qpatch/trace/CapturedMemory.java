package io.qpatch.trace;

import java.util.ArrayList;
import java.util.List;

/**
 * The target's memory as a backend captured it at a probe ({@link Capture}s), for the
 * decoder: a read inside a captured range answers from it, any other read fails (and the
 * value prints {@code ?}): never from the live process, which has moved on.
 */
final class CapturedMemory implements TargetMemory {
  private record Range(long address, byte[] bytes) {}

  private final List<Range> ranges = new ArrayList<>();

  /**
   * @param captures what was asked for, in order (a capture through a word comes after
   *     the capture of that word)
   * @param bytes what the kernel read for each (null: not captured)
   * @param regs the registers at the probe
   */
  CapturedMemory(List<Capture> captures, List<byte[]> bytes, long[] regs) {
    for (int i = 0; i < captures.size(); i++) {
      Capture c = captures.get(i);
      byte[] b = bytes.get(i);
      if (b == null) continue;
      long base = regs[c.register()] + c.offset();
      long address;
      if (c.through()) {
        try {
          address = read8(base) + c.inner();
        } catch (IllegalStateException e) {
          continue;
        }
      } else {
        address = base;
      }
      ranges.add(new Range(address, b));
    }
  }

  /** The bytes at {@code address}, from one captured range or several adjacent ones. */
  @Override
  public byte[] read(long address, int length) {
    byte[] out = new byte[length];
    int done = 0;
    while (done < length) {
      Range r = containing(address + done);
      if (r == null) {
        throw new IllegalStateException("not captured at the probe: " + length + " bytes at 0x" + Long.toHexString(address));
      }
      int from = (int) (address + done - r.address());
      int n = Math.min(length - done, r.bytes().length - from);
      System.arraycopy(r.bytes(), from, out, done, n);
      done += n;
    }
    return out;
  }

  private Range containing(long address) {
    for (Range r : ranges) {
      long from = address - r.address();
      if (from >= 0 && from < r.bytes().length) return r;
    }
    return null;
  }

  @Override
  public long read8(long address) {
    return ValueFormat.getLong(read(address, 8), 0);
  }

  @Override
  public void write8(long address, long value) {
    throw new UnsupportedOperationException("captured memory is read-only");
  }
}
