package io.qpatch.elf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.qpatch.error.BadInputException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Truncated and corrupted copies of real gcc output: each must open and parse fully, or
 * fail with a one-line {@link BadInputException} naming the file; never another exception.
 */
class ElfCorruptionTest {
  @TempDir Path dir;
  private byte[] object;
  private ElfFile original;

  @BeforeEach
  void build() throws IOException {
    object = Files.readAllBytes(Fixtures.object(dir, "cpatch", "-O2"));
    original = ElfFile.of("cpatch.o", object.clone());
  }

  @Test
  void every_prefix_of_an_object_is_rejected_with_a_one_line_message() {
    for (int length = 0; length < object.length; length++) {
      byte[] prefix = Arrays.copyOf(object, length);
      BadInputException e = assertThrows(BadInputException.class,
          () -> walk(ElfFile.of("cpatch.o", prefix)), "prefix of " + length + " bytes");
      assertOneLine(e, "cpatch.o: ");
    }
    walk(ElfFile.of("cpatch.o", object));
  }

  @Test
  void every_prefix_of_an_executable_fails_cleanly_or_parses() throws IOException {
    byte[] exe = Files.readAllBytes(Fixtures.executable(dir, "prog", true));
    for (int length = 0; length < exe.length; length += 3) {
      byte[] prefix = Arrays.copyOf(exe, length);
      parsesOrFailsCleanly(prefix, "prog", "prefix of " + length + " bytes");
    }
  }

  @Test
  void short_files_say_what_is_missing() {
    assertMessage(Arrays.copyOf(object, 3), "cpatch.o: not an ELF file");
    assertMessage(Arrays.copyOf(object, 20),
        "cpatch.o: truncated: ELF header at 0x0 (64 bytes) ends past end of file (20 bytes)");
    long shoff = original.header().shoff();
    long table = original.header().shnum() * 64;
    assertMessage(Arrays.copyOf(object, (int) shoff + 10), String.format(
        "cpatch.o: truncated: section header table at 0x%x (%d bytes) ends past end of file"
            + " (%d bytes)", shoff, table, shoff + 10));
  }

  @Test
  void foreign_files_are_named_for_what_they_are() {
    assertMessage(with(object, 0, 1, 0x7e), "cpatch.o: not an ELF file");
    assertMessage(with(object, 4, 1, 1), "cpatch.o: 32-bit ELF, qpatch needs ELF64");
    assertMessage(with(object, 5, 1, 2),
        "cpatch.o: big-endian ELF, qpatch needs little-endian x86-64");
    assertMessage(with(object, 18, 2, 183),
        "cpatch.o: ELF for machine AArch64 (183), qpatch needs x86-64");
    assertMessage(with(object, 16, 2, 0x42), "cpatch.o: unsupported ELF type 0x42");
    assertMessage("not elf at all".getBytes(), "cpatch.o: not an ELF file");
  }

  @Test
  void corrupt_header_fields_are_reported() {
    long shoff = original.header().shoff();
    assertMessage(with(object, 40, 8, object.length), String.format(
        "cpatch.o: truncated: section header table at 0x%x (%d bytes) ends past end of file"
            + " (%d bytes)", object.length, original.header().shnum() * 64, object.length));
    assertContains(with(object, 60, 2, 0xfff0), "truncated: section header table at 0x"
        + Long.toHexString(shoff));
    assertContains(with(object, 62, 2, 0x7000), "section name table index 28672 out of range");
    assertContains(with(object, 58, 2, 40), "section header size 40, expected 64");
  }

  @Test
  void corrupt_section_headers_are_reported() {
    Section text = original.section(".text").orElseThrow();
    Section symtab = original.section(".symtab").orElseThrow();
    long textAt = sectionHeader(text.index());
    assertContains(with(object, textAt + 24, 8, object.length), String.format(
        "truncated: section [%d] .text at 0x%x", text.index(), object.length));
    assertContains(with(object, textAt + 32, 8, 1L << 40), "section [" + text.index()
        + "] .text at 0x");
    assertContains(with(object, textAt, 4, 0xffffff), "section [" + text.index()
        + "] name: string offset 0xffffff outside the string table");
    long symtabAt = sectionHeader(symtab.index());
    assertContains(with(object, symtabAt + 40, 4, 99), "section [" + symtab.index()
        + "] .symtab: sh_link 99 is not a valid section index");
    assertContains(with(object, symtabAt + 40, 4, text.index()), "sh_link " + text.index()
        + " names section [" + text.index() + "] .text, which is not a string table");
    assertContains(with(object, symtabAt + 56, 8, 16), ".symtab: entry size 16, expected 24");
  }

  @Test
  void corrupt_symbols_and_relocations_are_reported() {
    Section symtab = original.section(".symtab").orElseThrow();
    int last = original.symtab().orElseThrow().size() - 1;
    long symAt = symtab.offset() + last * 24L;
    assertContains(with(object, symAt, 4, 0x7fffffff),
        "symbol [" + last + "] name: string offset 0x7fffffff outside the string table");
    assertContains(with(object, symAt + 6, 2, 0x4000),
        "has section index 16384, the file has");
    RelocationSection rela = original.relocationSections().getFirst();
    long infoAt = rela.section().offset() + 8;
    assertContains(with(object, infoAt + 4, 4, 5000), "relocation [0] ("
        + rela.relocations().getFirst().typeName() + ") refers to symbol 5000");
    assertContains(with(object, rela.section().offset(), 8, 1L << 20),
        "relocation [0] (" + rela.relocations().getFirst().typeName() + ") at offset 0x100000");
  }

  @Test
  void corrupt_program_headers_are_reported() throws IOException {
    byte[] exe = Files.readAllBytes(Fixtures.executable(dir, "prog", false));
    assertContains(with(exe, 32, 8, exe.length - 20), "truncated: program header table at");
    assertContains(with(exe, 56, 2, 0xfff), "truncated: program header table at");
    ElfFile elf = ElfFile.of("prog", exe);
    long phAt = elf.header().phoff();
    assertContains(with(exe, phAt + 8, 8, exe.length), "truncated: segment [0] at");
  }

  @Test
  void every_header_field_set_to_hostile_values_fails_cleanly() {
    long[] hostile = {0, 1, 3, 0xff, 0xffff, 0x7fffffffL, 0xffffffffL, object.length - 1,
        object.length, Long.MAX_VALUE, -1L};
    int failures = 0;
    for (long at = 0; at < 64; at += 2) {
      for (long value : hostile) failures += corrupt(at, 2, value);
    }
    for (Section s : original.sections()) {
      long h = sectionHeader(s.index());
      for (int field = 0; field < 64; field += 4) {
        for (long value : hostile) failures += corrupt(h + field, field >= 8 ? 8 : 4, value);
      }
    }
    assertTrue(failures > 100, "only " + failures + " corruptions were noticed");
  }

  @Test
  void every_symbol_and_relocation_field_set_to_hostile_values_fails_cleanly() {
    long[] hostile = {0, 1, 0xfff1, 0xfff2, 0xffff, 0x7fffffffL, 0xffffffffL, -1L};
    for (String table : new String[] {".symtab", ".rela.text", ".group", ".note.gnu.property"}) {
      Section s = original.section(table).orElse(null);
      if (s == null) continue;
      for (long at = s.offset(); at < s.offset() + Math.min(s.size(), 480); at += 2) {
        for (long value : hostile) corrupt(at, 4, value);
      }
    }
  }

  @Test
  void random_byte_flips_never_escape_as_unchecked_exceptions() throws IOException {
    byte[] exe = Files.readAllBytes(Fixtures.executable(dir, "fuzz", true));
    Random random = new Random(20240611);
    for (byte[] image : new byte[][] {object, exe}) {
      for (int round = 0; round < 3000; round++) {
        byte[] copy = image.clone();
        for (int flips = 1 + random.nextInt(8); flips > 0; flips--) {
          copy[pickOffset(random, copy.length)] ^= (byte) (1 << random.nextInt(8));
        }
        parsesOrFailsCleanly(copy, "fuzz", "round " + round);
      }
    }
  }

  /** Half the flips go into the first 64 bytes or the tail where the header tables live. */
  private static int pickOffset(Random random, int length) {
    int region = random.nextInt(4);
    if (region == 0) return random.nextInt(64);
    if (region == 1) return length - 1 - random.nextInt(Math.min(length, 1024));
    return random.nextInt(length);
  }

  private int corrupt(long at, int width, long value) {
    if (at + width > object.length) return 0;
    return parsesOrFailsCleanly(with(object, at, width, value), "cpatch.o",
        String.format("%d bytes at 0x%x = 0x%x", width, at, value)) ? 0 : 1;
  }

  /** True if everything parsed; false if a clean BadInputException was thrown. */
  private static boolean parsesOrFailsCleanly(byte[] image, String name, String what) {
    try {
      walk(ElfFile.of(name, image));
      return true;
    } catch (BadInputException e) {
      assertOneLine(e, name + ": ");
      return false;
    } catch (RuntimeException e) {
      throw new AssertionError(what + ": escaped as " + e, e);
    }
  }

  /** Touches everything an ElfFile parses, lazily or not. */
  static void walk(ElfFile elf) {
    elf.sections().forEach(s -> s.data().byteSize());
    elf.programHeaders().forEach(p -> p.data().byteSize());
    elf.symtab().ifPresent(t -> t.symbols().forEach(Symbol::versionedName));
    elf.dynsym().ifPresent(t -> t.named("sleep"));
    for (RelocationSection rs : elf.relocationSections()) {
      rs.relocations().forEach(Relocation::typeName);
    }
    elf.groups().forEach(g -> g.members().size());
    elf.buildId();
    elf.debugLink();
  }

  private long sectionHeader(int index) {
    return original.header().shoff() + index * 64L;
  }

  private static byte[] with(byte[] image, long at, int width, long value) {
    byte[] copy = image.clone();
    ByteBuffer b = ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN);
    switch (width) {
      case 1 -> b.put((int) at, (byte) value);
      case 2 -> b.putShort((int) at, (short) value);
      case 4 -> b.putInt((int) at, (int) value);
      case 8 -> b.putLong((int) at, value);
      default -> fail("width " + width);
    }
    return copy;
  }

  private static void assertMessage(byte[] image, String expected) {
    BadInputException e =
        assertThrows(BadInputException.class, () -> walk(ElfFile.of("cpatch.o", image)));
    assertEquals(expected, e.getMessage());
  }

  /** The image fails with a message containing {@code part} (any message when null). */
  private static void assertContains(byte[] image, String part) {
    BadInputException e =
        assertThrows(BadInputException.class, () -> walk(ElfFile.of("cpatch.o", image)));
    assertOneLine(e, "cpatch.o: ");
    if (part != null) {
      assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' lacks '" + part + "'");
    }
  }

  private static void assertOneLine(BadInputException e, String prefix) {
    assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
  }
}
