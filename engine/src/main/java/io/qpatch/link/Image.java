package io.qpatch.link;

import java.util.Arrays;

/** The bytes of a linked object as they will lie in memory from its load address on. */
final class Image {
  private final byte[] bytes;

  Image(long size) {
    this.bytes = new byte[Math.toIntExact(size)];
  }

  void put(long offset, byte[] data) {
    System.arraycopy(data, 0, bytes, Math.toIntExact(offset), data.length);
  }

  /** Little-endian, the low {@code count} bytes of {@code v}. */
  void putBytes(long offset, long v, int count) {
    int at = Math.toIntExact(offset);
    for (int i = 0; i < count; i++) bytes[at + i] = (byte) (v >>> (8 * i));
  }

  int get(long offset) {
    return bytes[Math.toIntExact(offset)] & 0xff;
  }

  void putLong(long offset, long v) {
    putBytes(offset, v, 8);
  }

  long getLong(long offset) {
    int at = Math.toIntExact(offset);
    long v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | (bytes[at + i] & 0xff);
    return v;
  }

  byte[] slice(long offset, long length) {
    return Arrays.copyOfRange(bytes, Math.toIntExact(offset), Math.toIntExact(offset + length));
  }

  long size() {
    return bytes.length;
  }
}
