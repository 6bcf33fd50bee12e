package io.qpatch.patch;

/**
 * A mapping a patch added to the target.
 *
 * @param start first address
 * @param length size in bytes (whole pages)
 * @param kind what it holds
 */
public record Region(long start, long length, Kind kind) {

  /** What a region holds. */
  public enum Kind {
    /** The patch's record (this class's owner); unmapped last. */
    RECORD(1),
    /** Stubs and trampolines near the redirected functions. */
    STUBS(2),
    /** Code or data of the patch object, laid out by the linker. */
    OBJECT(3);

    final int code;

    Kind(int code) {
      this.code = code;
    }

    static Kind of(int code) {
      for (Kind k : values()) {
        if (k.code == code) return k;
      }
      return null;
    }
  }

  public long end() {
    return start + length;
  }

  /** Whether {@code address} lies in [start, end). */
  public boolean contains(long address) {
    return Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end()) < 0;
  }

  @Override
  public String toString() {
    return String.format("%s 0x%x-0x%x", kind.name().toLowerCase(java.util.Locale.ROOT), start, end());
  }
}
