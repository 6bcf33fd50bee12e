package io.qpatch.trace.go;

import io.qpatch.elf.Section;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The Go version recorded in {@code .go.buildinfo} (Go 1.13+), read as the Go toolchain
 * reads it in debug/buildinfo/buildinfo.go: a 32-byte header, "\xff Go buildinf:", the
 * pointer size, a flags byte; then either (flag bit 2, Go 1.18+) the version inline as a
 * uvarint-length-prefixed string at offset 32, or (older) at offset 16 the address of the
 * runtime.buildVersion string header, which holds the string's address and length.
 */
final class BuildInfo {
  private static final byte[] MAGIC = "\u00ff Go buildinf:".getBytes(StandardCharsets.ISO_8859_1);
  private static final int HEADER = 32;
  private static final int FLAG_BIG_ENDIAN = 1;
  private static final int FLAG_INLINE = 2;
  /** Longer than any version string a toolchain writes; stops a corrupt length early. */
  private static final int MAX_VERSION = 1024;

  private BuildInfo() {}

  /** The version string, e.g. "go1.21.13". */
  static String version(Image image, Section section) {
    byte[] data = section.data().toArray(ValueLayout.JAVA_BYTE);
    if (data.length < HEADER || !Arrays.equals(data, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw image.bad(".go.buildinfo does not start with the Go build info magic");
    }
    int ptrSize = data[14];
    int flags = data[15];
    if ((flags & FLAG_BIG_ENDIAN) != 0 || ptrSize != 8) {
      throw image.bad(String.format(".go.buildinfo: pointer size %d, flags 0x%x: not a"
          + " little-endian 64-bit Go binary", ptrSize, flags));
    }
    String v = (flags & FLAG_INLINE) != 0 ? inline(image, data) : viaPointer(image, data);
    if (v.isEmpty()) throw image.bad(".go.buildinfo: empty Go version");
    return v;
  }

  private static String inline(Image image, byte[] data) {
    int pos = HEADER;
    long length = 0;
    for (int shift = 0; ; shift += 7) {
      if (pos >= data.length || shift > 28) {
        throw image.bad(".go.buildinfo: truncated version length");
      }
      int b = data[pos++] & 0xff;
      length |= (long) (b & 0x7f) << shift;
      if ((b & 0x80) == 0) break;
    }
    if (length > MAX_VERSION || length > data.length - pos) {
      throw image.bad(".go.buildinfo: version length " + length + " runs past the section");
    }
    return new String(data, pos, (int) length, StandardCharsets.UTF_8);
  }

  private static String viaPointer(Image image, byte[] data) {
    long header = java.nio.ByteBuffer.wrap(data, 16, 8)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    long strAddr = image.u64(header, ".go.buildinfo runtime.buildVersion");
    long length = image.u64(header + 8, ".go.buildinfo runtime.buildVersion length");
    if (length < 0 || length > MAX_VERSION) {
      throw image.bad(".go.buildinfo: implausible version length " + length);
    }
    return new String(image.read(strAddr, length, ".go.buildinfo version string"),
        StandardCharsets.UTF_8);
  }
}
