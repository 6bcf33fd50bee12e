package io.qpatch.trace.go;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.elf.ElfFile;
import io.qpatch.error.BadInputException;
import io.qpatch.testing.GoToolchains;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * The goid table's entries for versions no CI toolchain checks (those that are installed
 * are checked against DWARF in GoBinaryTest), and version parsing.
 */
class GoidOffsetsTest {
  private static long offset(String version) {
    return GoidOffsets.forVersion(GoVersion.parse(version)).orElseThrow();
  }

  @Test
  void derived_entries_follow_runtime2_go() {
    assertEquals(152, offset("go1.17.13"));
    assertEquals(152, offset("go1.18.10"));
    assertEquals(152, offset("go1.20.14"), "1.20: g prefix as in 1.19 and 1.21");
    assertEquals(160, offset("go1.24.0"), "1.24: syscallbp, as since 1.23");
    assertEquals(152, offset("go1.25.1"), "1.25: gobuf.ret removed");
  }

  @Test
  void versions_outside_the_table_are_unknown_not_guessed() {
    assertEquals(OptionalLong.empty(), GoidOffsets.forVersion(GoVersion.parse("go1.8.7")));
    assertEquals(OptionalLong.empty(), GoidOffsets.forVersion(GoVersion.parse("go1.26.0")));
    assertEquals(OptionalLong.empty(), GoidOffsets.forVersion(GoVersion.parse("go2.0")));
    assertEquals(OptionalLong.empty(), GoidOffsets.forVersion(GoVersion.parse("unknown")));
  }

  @Test
  void release_candidates_and_devel_builds_parse_to_their_minor_version() {
    assertEquals(new GoVersion(1, 21, 13, "go1.21.13"), GoVersion.parse("go1.21.13"));
    assertEquals("1.22", GoVersion.parse("go1.22rc1").majorMinor());
    GoVersion devel = GoVersion.parse("devel go1.23-4a5b6c7 Tue Jan 2 2024");
    assertEquals("1.23", devel.majorMinor());
    assertTrue(devel.atLeast(1, 17));
    assertTrue(!GoVersion.parse("go1.16.15").atLeast(1, 17));
    assertEquals(GoAbi.STACK, GoAbi.forVersion(GoVersion.parse("go1.16.15")));
    assertEquals(GoAbi.REGISTER, GoAbi.forVersion(GoVersion.parse("go1.17")));
  }

  @Test
  void a_stripped_binary_of_an_unknown_version_is_refused_with_advice() throws Exception {
    byte[] exe = Files.readAllBytes(GoFixture.stripped(GoToolchains.newest()));
    String text = new String(exe, StandardCharsets.ISO_8859_1);
    String real = GoToolchains.newest().version();
    String fake = "go1.99" + "9".repeat(real.length() - 6);
    int at = text.indexOf(real, text.indexOf("\u00ff Go buildinf:"));
    System.arraycopy(fake.getBytes(StandardCharsets.US_ASCII), 0, exe, at, fake.length());
    try (ElfFile elf = ElfFile.of("gometa", exe)) {
      GoBinary g = GoBinary.of(elf).orElseThrow();
      assertEquals(fake, g.version());
      BadInputException e = assertThrows(BadInputException.class, g::goidOffset);
      assertEquals("gometa: built by " + fake + ", whose runtime.g layout qpatch does not know,"
          + " and without DWARF; rebuild without -ldflags=-w", e.getMessage());
    }
  }
}
