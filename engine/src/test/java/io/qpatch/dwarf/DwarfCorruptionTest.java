package io.qpatch.dwarf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.Section;
import io.qpatch.error.BadInputException;
import io.qpatch.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Corrupted copies of real gcc output: reading the DWARF must either work or end in a
 * one-line {@link BadInputException} naming the file; never another exception, a hang or
 * a stack overflow.
 */
class DwarfCorruptionTest {
  private static final String NAME = "dwarfc";

  private static byte[] build(String... flags) throws IOException {
    return Files.readAllBytes(Fixtures.c(NAME, DwarfTest.C, flags));
  }

  private static Section section(byte[] exe, String name) {
    try (ElfFile elf = ElfFile.of(NAME, exe)) {
      return elf.section(name).orElseThrow();
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {".debug_info", ".debug_abbrev", ".debug_str", ".debug_line_str"})
  void random_flips_in_a_section_fail_cleanly_or_parse(String name) throws IOException {
    for (String flag : new String[] {"-gdwarf-5", "-gdwarf-4"}) {
      byte[] exe = build(flag);
      Section s;
      try {
        s = section(exe, name);
      } catch (java.util.NoSuchElementException absent) {
        continue; // DWARF 4 has no .debug_line_str
      }
      Random random = new Random(name.hashCode());
      for (int trial = 0; trial < 300; trial++) {
        byte[] copy = exe.clone();
        for (int k = 0; k <= trial % 3; k++) {
          copy[(int) (s.offset() + random.nextInt((int) s.size()))] ^= (byte) (1 << random.nextInt(8));
        }
        walkOrFailCleanly(copy, flag + " " + name + " trial " + trial);
      }
    }
  }

  @Test
  void random_flips_in_compressed_data_fail_cleanly() throws IOException {
    byte[] exe = build("-gdwarf-5", "-gz");
    Section s = section(exe, ".debug_info");
    Random random = new Random(7);
    int failures = 0;
    for (int trial = 0; trial < 100; trial++) {
      byte[] copy = exe.clone();
      copy[(int) (s.offset() + 24 + random.nextInt((int) s.size() - 24))] ^= (byte) 0x10;
      if (!walkOrFailCleanly(copy, "trial " + trial)) failures++;
    }
    assertTrue(failures > 90, "zlib's checksum catches flips: " + failures + " of 100");
  }

  @Test
  void an_oversized_unit_length_names_the_unit() throws IOException {
    byte[] exe = build("-gdwarf-5");
    Section info = section(exe, ".debug_info");
    putInt(exe, info.offset(), 0x7ffffff0);
    assertMessage(exe, "dwarfc: .debug_info: unit at 0x0: length 2147483632 runs past the end"
        + " of the section");
  }

  @Test
  void an_unknown_version_is_named() throws IOException {
    byte[] exe = build("-gdwarf-5");
    Section info = section(exe, ".debug_info");
    exe[(int) info.offset() + 4] = 9;
    assertMessage(exe, "dwarfc: .debug_info: unit at 0x0: unsupported DWARF version 9");
  }

  @Test
  void an_unknown_form_is_named() throws IOException {
    byte[] exe = build("-gdwarf-5");
    Section abbrev = section(exe, ".debug_abbrev");
    // The first declaration: code 1, tag, children flag, then (attribute, form) pairs.
    int at = (int) abbrev.offset() + 3;
    while ((exe[at] & 0x80) != 0) at++;
    exe[at + 1] = 0x7e;
    BadInputException e = assertThrows(BadInputException.class, () -> walk(exe));
    assertTrue(e.getMessage().startsWith("dwarfc: .debug_info: unknown attribute form 0x7e"),
        e.getMessage());
  }

  @Test
  void an_implausible_uncompressed_size_is_refused() throws IOException {
    byte[] exe = build("-gdwarf-5", "-gz");
    Section info = section(exe, ".debug_info");
    putInt(exe, info.offset() + 8, 0x7fffffff);
    putInt(exe, info.offset() + 12, 0x7fffffff);
    assertMessage(exe, "dwarfc: .debug_info: implausible uncompressed size 9223372034707292159");
  }

  private static void putInt(byte[] b, long at, int v) {
    for (int i = 0; i < 4; i++) b[(int) at + i] = (byte) (v >>> (8 * i));
  }

  private static void assertMessage(byte[] exe, String expected) {
    BadInputException e = assertThrows(BadInputException.class, () -> walk(exe));
    assertEquals(expected, e.getMessage());
  }

  /** Reads everything; true when it parsed, false when it failed with a clean message. */
  static boolean walkOrFailCleanly(byte[] exe, String what) {
    try {
      walk(exe);
      return true;
    } catch (BadInputException e) {
      assertFalse(e.getMessage().contains("\n"), what + ": " + e.getMessage());
      assertTrue(e.getMessage().startsWith(NAME + ": "), what + ": " + e.getMessage());
      return false;
    }
  }

  static void walk(byte[] exe) {
    try (ElfFile elf = ElfFile.of(NAME, exe)) {
      Dwarf d = Dwarf.of(elf).orElseThrow();
      d.producers();
      d.struct("point").ifPresent(DwarfCorruptionTest::walkType);
      d.memberOffset("point", "next");
      for (DwarfFunction f : d.functions()) {
        f.name();
        d.functionAt(f.lowPc());
        for (DwarfParam p : f.params()) walkType(p.type());
      }
    }
  }

  /** Every type reachable from {@code root}, each once. */
  static void walkType(DwarfType root) {
    Set<DwarfType> seen = new HashSet<>();
    Deque<DwarfType> todo = new ArrayDeque<>();
    todo.push(root);
    while (!todo.isEmpty() && seen.size() < 10_000) {
      DwarfType t = todo.pop();
      if (!seen.add(t)) continue;
      t.name();
      t.size();
      t.resolved();
      switch (t.kind()) {
        case POINTER, REFERENCE, TYPEDEF, QUALIFIER, ARRAY -> todo.push(t.target());
        case STRUCT, CLASS, UNION -> t.members().forEach(m -> todo.push(m.type()));
        default -> { }
      }
    }
  }
}
