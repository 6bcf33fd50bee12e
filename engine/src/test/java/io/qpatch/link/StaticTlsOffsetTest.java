package io.qpatch.link;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qpatch.elf.ProgramHeader;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * The executable's static TLS block offset, glibc's _dl_determine_tlsoffset for the first
 * module; the live case is checked against %fs in ObjectLoaderLiveTest.
 */
class StaticTlsOffsetTest {
  private static ProgramHeader tls(long vaddr, long memsz, long align) {
    return new ProgramHeader(0, ProgramHeader.PT_TLS, ProgramHeader.PF_R, vaddr, vaddr, vaddr,
        0, memsz, align, MemorySegment.NULL);
  }

  @Test
  void alignedSegmentEndsAtTheThreadPointerRoundedUpToItsAlignment() {
    assertEquals(0x18, ProcessSymbolSource.staticTlsOffset(tls(0x3de8, 0x14, 8)));
    assertEquals(0x4, ProcessSymbolSource.staticTlsOffset(tls(0x3df0, 0x4, 4)));
  }

  @Test
  void misalignedStartKeepsItsOffsetWithinTheAlignment() {
    // firstbyte = -(0x3de8 & 15) & 15 = 8: off = roundup(0x14 - 8, 16) + 8
    assertEquals(0x18, ProcessSymbolSource.staticTlsOffset(tls(0x3de8, 0x14, 16)));
  }

  @Test
  void zeroAlignmentCountsAsOne() {
    assertEquals(5, ProcessSymbolSource.staticTlsOffset(tls(0x1000, 5, 0)));
  }
}
