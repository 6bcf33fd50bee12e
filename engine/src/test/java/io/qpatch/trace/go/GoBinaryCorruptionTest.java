package io.qpatch.trace.go;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.Section;
import io.qpatch.error.BadInputException;
import io.qpatch.testing.Fixtures;
import io.qpatch.testing.GoToolchains;
import io.qpatch.testing.GoToolchains.GoToolchain;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Non-Go files and corrupted copies of real Go builds: GoBinary must say "not Go", work,
 * or fail with a one-line {@link BadInputException} naming the file.
 */
class GoBinaryCorruptionTest {
  private static final String NAME = "gometa";

  @TempDir Path dir;

  private static byte[] stripped() throws IOException {
    return Files.readAllBytes(GoFixture.stripped(GoToolchains.newest()));
  }

  private static Section section(byte[] exe, String name) {
    try (ElfFile elf = ElfFile.of(NAME, exe)) {
      return elf.section(name).orElseThrow();
    }
  }

  private static ByteBuffer le(byte[] b) {
    return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
  }

  @Test
  void a_c_program_is_not_go() {
    try (ElfFile elf = ElfFile.open(Fixtures.c("notgo", "int main(void) { return 0; }\n"))) {
      assertTrue(GoBinary.of(elf).isEmpty());
    }
  }

  @Test
  void a_zeroed_pclntab_magic_is_named() throws IOException {
    byte[] exe = stripped();
    le(exe).putInt((int) section(exe, ".gopclntab").offset(), 0);
    assertMessage(exe, g -> g.functions(),
        "gometa: .gopclntab has an unknown magic 0x00000000");
  }

  @Test
  void an_absurd_function_count_is_named() throws IOException {
    byte[] exe = stripped();
    le(exe).putLong((int) section(exe, ".gopclntab").offset() + 8, 1L << 40);
    assertMessage(exe, g -> g.functions(), "gometa: .gopclntab: function count 1099511627776");
  }

  @Test
  void a_pclntab_cut_short_fails_cleanly() throws IOException {
    byte[] exe = stripped();
    Section s = section(exe, ".gopclntab");
    for (long size : new long[] {0, 8, 15, 100, 4096, s.size() / 2, s.size() - 1}) {
      byte[] copy = exe.clone();
      setSectionSize(copy, s, size);
      assertCleanOrParses(copy, g -> g.functions(), "size " + size);
    }
  }

  private static void setSectionSize(byte[] exe, Section s, long size) {
    try (ElfFile elf = ElfFile.of(NAME, exe.clone())) {
      long shdr = elf.header().shoff() + (long) s.index() * elf.header().shentsize();
      le(exe).putLong((int) shdr + 32, size);
    }
  }

  @Test
  void random_flips_in_the_function_table_fail_cleanly_or_parse() throws IOException {
    byte[] exe = stripped();
    Section s = section(exe, ".gopclntab");
    Random random = new Random(1);
    for (int trial = 0; trial < 150; trial++) {
      byte[] copy = exe.clone();
      // The header and the start of the functab, where every field is an offset or a count.
      int span = (int) Math.min(s.size(), 4096);
      copy[(int) s.offset() + random.nextInt(span)] ^= (byte) (1 << random.nextInt(8));
      assertCleanOrParses(copy, g -> {
        for (GoFunction f : g.functions().subList(0, Math.min(50, g.functions().size()))) {
          g.stackCheck(f);
          g.returnSites(f);
        }
      }, "trial " + trial);
    }
  }

  @Test
  void a_go_binary_without_its_function_table_is_refused() throws IOException {
    byte[] exe = stripped();
    String text = new String(exe, StandardCharsets.ISO_8859_1);
    int at = text.indexOf(".gopclntab\0");
    assertTrue(at > 0);
    exe[at + 1] = 'x';
    BadInputException e = assertThrows(BadInputException.class,
        () -> GoBinary.of(ElfFile.of(NAME, exe)));
    assertEquals("gometa: a Go binary without a function table (.gopclntab); cannot trace it",
        e.getMessage());
  }

  @Test
  void buildinfo_without_its_magic_is_named() throws IOException {
    byte[] exe = stripped();
    exe[(int) section(exe, ".go.buildinfo").offset() + 3] = 'X';
    assertMessage(exe, GoBinary::version,
        "gometa: .go.buildinfo does not start with the Go build info magic");
  }

  @Test
  void an_inline_version_longer_than_the_section_is_named() throws IOException {
    byte[] exe = stripped();
    int at = (int) section(exe, ".go.buildinfo").offset() + 32;
    exe[at] = (byte) 0xe8;
    exe[at + 1] = 0x07;
    assertMessage(exe, GoBinary::version,
        "gometa: .go.buildinfo: version length 1000 runs past the section");
  }

  /**
   * Go 1.13 to 1.17 store pointers to runtime.buildVersion instead of the string: rewrite
   * the real section into that layout, with the string header and bytes inside it.
   */
  @Test
  void the_pre_1_18_pointer_layout_is_read() throws IOException {
    byte[] exe = stripped();
    Section s = section(exe, ".go.buildinfo");
    pointerLayout(exe, s, s.addr() + 48, "go1.12.17");
    try (ElfFile elf = ElfFile.of(NAME, exe)) {
      GoBinary g = GoBinary.of(elf).orElseThrow();
      assertEquals("go1.12.17", g.version());
      assertEquals("1.12", g.majorMinor());
      assertEquals(GoAbi.STACK, g.abi());
      assertEquals(new GoBinary.GoidOffset(152, GoBinary.GoidSource.VERSION_TABLE), g.goidOffset());
    }
  }

  @Test
  void a_buildinfo_pointer_to_nowhere_is_named() throws IOException {
    byte[] exe = stripped();
    Section s = section(exe, ".go.buildinfo");
    pointerLayout(exe, s, 0xdead0000L, "go1.12.17");
    assertMessage(exe, GoBinary::version, "gometa: .go.buildinfo runtime.buildVersion: address"
        + " 0xdead0000 is not in any section with file data");
  }

  private static void pointerLayout(byte[] exe, Section s, long header, String version) {
    ByteBuffer b = le(exe);
    int off = (int) s.offset();
    exe[off + 15] = 0;
    b.putLong(off + 16, header);
    b.putLong(off + 24, 0);
    b.putLong(off + 48, s.addr() + 64);
    b.putLong(off + 56, version.length());
    byte[] v = version.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(v, 0, exe, off + 64, v.length);
  }

  @Test
  void random_flips_in_go_dwarf_fail_cleanly_or_parse() throws IOException {
    GoToolchain tc = GoToolchains.newest();
    Fixtures.requireTool("objcopy");
    Path plain = dir.resolve("plain");
    Fixtures.run(List.of("objcopy", "--decompress-debug-sections",
        GoFixture.unstripped(tc).toString(), plain.toString()));
    byte[] exe = Files.readAllBytes(plain);
    Section info = section(exe, ".debug_info");
    Random random = new Random(3);
    for (int trial = 0; trial < 40; trial++) {
      byte[] copy = exe.clone();
      for (int k = 0; k < 4; k++) {
        copy[(int) (info.offset() + random.nextInt((int) info.size()))] ^= (byte) 0x41;
      }
      assertCleanOrParses(copy, g -> {
        g.goidOffset();
        g.params(g.function("main.four").orElseThrow());
        g.params(g.function("main.mixed").orElseThrow());
      }, "trial " + trial);
    }
  }

  private static void assertMessage(byte[] exe, Consumer<GoBinary> use, String expected) {
    BadInputException e = assertThrows(BadInputException.class, () -> {
      try (ElfFile elf = ElfFile.of(NAME, exe)) {
        use.accept(GoBinary.of(elf).orElseThrow());
      }
    });
    assertEquals(expected, e.getMessage());
  }

  private static void assertCleanOrParses(byte[] exe, Consumer<GoBinary> use, String what) {
    try (ElfFile elf = ElfFile.of(NAME, exe)) {
      GoBinary.of(elf).ifPresent(use);
    } catch (BadInputException e) {
      assertFalse(e.getMessage().contains("\n"), what + ": " + e.getMessage());
      assertTrue(e.getMessage().startsWith(NAME + ": "), what + ": " + e.getMessage());
    }
  }
}
