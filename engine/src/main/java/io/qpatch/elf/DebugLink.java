package io.qpatch.elf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * The {@code .gnu_debuglink} section: the file name of the separate debug file and the
 * CRC-32 of its contents. Layout (gdb manual, "Debugging Information in Separate Files"):
 * the NUL-terminated name, zero padding to a multiple of 4, then the 4-byte CRC.
 */
public record DebugLink(String fileName, int crc) {

  static DebugLink read(ElfReader r, Section s) {
    MemorySegment d = s.data();
    long nul = 0;
    while (nul < d.byteSize() && d.get(ValueLayout.JAVA_BYTE, nul) != 0) nul++;
    if (nul == d.byteSize()) throw r.bad(s.label() + ": file name is not NUL-terminated");
    long crcAt = (nul + 1 + 3) & ~3L;
    r.checkIn(s, crcAt, 4, "CRC");
    byte[] name = d.asSlice(0, nul).toArray(ValueLayout.JAVA_BYTE);
    return new DebugLink(new String(name, StandardCharsets.UTF_8),
        (int) ElfReader.u32(d, crcAt));
  }
}
