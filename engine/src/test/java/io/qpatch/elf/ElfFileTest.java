package io.qpatch.elf;

import io.qpatch.testing.Toolchain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.error.BadInputException;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Parses real gcc/g++ output and system libraries and compares with GNU readelf. */
class ElfFileTest {
  static final Path LIBC = Path.of("/lib/x86_64-linux-gnu/libc.so.6");

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"-O0", "-O2", "-O2 -fPIC", "-O2 -ffunction-sections -fdata-sections"})
  void relocatable_object_matches_readelf(String flags) {
    String[] all = (flags + " -fcommon").split(" ");
    Path object = Fixtures.object(dir, "cpatch", all);
    try (ElfFile elf = ElfFile.open(object)) {
      assertEquals(ElfType.REL, elf.header().type());
      assertEquals(ElfHeader.EM_X86_64, elf.header().machine());
      assertTrue(elf.programHeaders().isEmpty());
      ElfAssertions.sectionsMatch(Readelf.sections(object), elf);
      ElfAssertions.symbolsMatch(Readelf.symbols(object, "-sW").get(".symtab"),
          elf.symtab().orElseThrow());
      ElfAssertions.relocationsMatch(Readelf.relocations(object), elf);
    }
  }

  @Test
  void relocatable_object_has_the_expected_symbol_kinds() {
    Path object = Fixtures.object(dir, "kinds", "-O0", "-fcommon");
    try (ElfFile elf = ElfFile.open(object)) {
      SymbolTable symtab = elf.symtab().orElseThrow();
      Symbol helper = symtab.named("helper").getFirst();
      assertTrue(helper.isLocal() && helper.isFunction() && helper.size() > 0);
      Symbol common = symtab.named("common_var").getFirst();
      assertEquals(Symbol.SHN_COMMON, common.sectionIndex());
      assertTrue(symtab.named("tls_var").getFirst().isTls());
      assertTrue(symtab.named("sleep").getFirst().isUndefined());
      assertEquals(".text", elf.section(symtab.named("work").getFirst().sectionIndex()).name());
      assertTrue(elf.dynsym().isEmpty());
    }
  }

  @Test
  void nobits_section_has_a_size_but_no_data() {
    Path object = Fixtures.object(dir, "bss", "-O0");
    try (ElfFile elf = ElfFile.open(object)) {
      Section bss = elf.section(".bss").orElseThrow();
      assertEquals(Section.SHT_NOBITS, bss.type());
      assertTrue(bss.size() > 0);
      assertFalse(bss.hasData());
      assertEquals(0, bss.data().byteSize());
      Section text = elf.section(".text").orElseThrow();
      assertEquals(text.size(), text.data().byteSize());
      assertTrue(text.isExecutable() && text.isAlloc());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"-O0", "-O2"})
  void cpp_object_comdat_groups_match_readelf(String level) {
    Path object = Toolchain.compile(dir, "groups.cpp", Fixtures.GROUPS_CPP, "groups.o",
        "-c", level);
    try (ElfFile elf = ElfFile.open(object)) {
      List<Readelf.GroupRow> expected = Readelf.groups(object);
      assertFalse(expected.isEmpty(), "g++ emitted no COMDAT group");
      assertEquals(expected.size(), elf.groups().size());
      for (int i = 0; i < expected.size(); i++) {
        ComdatGroup group = elf.groups().get(i);
        assertEquals(expected.get(i).index(), group.section().index());
        assertEquals(expected.get(i).signature(), group.signature());
        assertEquals(expected.get(i).members(), group.members());
        assertTrue(group.isComdat());
      }
      ElfAssertions.relocationsMatch(Readelf.relocations(object), elf);
      ElfAssertions.symbolsMatch(Readelf.symbols(object, "-sW").get(".symtab"),
          elf.symtab().orElseThrow());
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void executable_matches_readelf(boolean pie) {
    Path exe = Fixtures.executable(dir, pie ? "pie" : "nopie", pie);
    try (ElfFile elf = ElfFile.open(exe)) {
      assertEquals(pie ? ElfType.DYN : ElfType.EXEC, elf.header().type());
      assertEquals(Readelf.entry(exe), elf.header().entry());
      ElfAssertions.sectionsMatch(Readelf.sections(exe), elf);
      ElfAssertions.segmentsMatch(Readelf.segments(exe), elf);
      Map<String, List<Readelf.SymbolRow>> tables = Readelf.symbols(exe, "-sW");
      ElfAssertions.symbolsMatch(tables.get(".dynsym"), elf.dynsym().orElseThrow());
      ElfAssertions.symbolsMatch(tables.get(".symtab"), elf.symtab().orElseThrow());
      ElfAssertions.relocationsMatch(Readelf.relocations(exe), elf);
      assertEquals(Readelf.buildId(exe), elf.buildId().orElseThrow());
    }
  }

  @Test
  void executable_exposes_interpreter_tls_and_dynamic_segments() {
    Path exe = Fixtures.executable(dir, "segments", true);
    try (ElfFile elf = ElfFile.open(exe)) {
      ProgramHeader interp = segment(elf, ProgramHeader.PT_INTERP);
      String path = new String(interp.data().toArray(ValueLayout.JAVA_BYTE),
          StandardCharsets.US_ASCII);
      assertEquals("/lib64/ld-linux-x86-64.so.2\0", path);
      assertEquals(4, segment(elf, ProgramHeader.PT_TLS).memsz());
      assertTrue(segment(elf, ProgramHeader.PT_DYNAMIC).isWritable());
      assertTrue(elf.programHeaders().stream().anyMatch(p -> p.isLoad() && p.isExecutable()));
    }
  }

  @Test
  void libc_dynamic_symbols_and_versions_match_readelf() {
    try (ElfFile elf = ElfFile.open(LIBC)) {
      assertEquals(ElfType.DYN, elf.header().type());
      ElfAssertions.symbolsMatch(Readelf.symbols(LIBC, "--dyn-syms -W").get(".dynsym"),
          elf.dynsym().orElseThrow());
      ElfAssertions.segmentsMatch(Readelf.segments(LIBC), elf);
      assertEquals(Readelf.buildId(LIBC), elf.buildId().orElseThrow());
      assertTrue(elf.section(".gnu.version_d").isPresent());
    }
  }

  @Test
  void default_version_is_told_apart_from_hidden_one() {
    try (ElfFile elf = ElfFile.open(LIBC)) {
      List<Symbol> clock = elf.dynsym().orElseThrow().named("clock_gettime");
      assertEquals(2, clock.size(), "libc has a default and a compat clock_gettime");
      assertEquals(1, clock.stream().filter(Symbol::isDefaultVersion).count());
      Symbol sleep = elf.dynsym().orElseThrow().named("sleep").getFirst();
      assertEquals("sleep@@GLIBC_2.2.5", sleep.versionedName());
      assertEquals("GLIBC_2.2.5", sleep.version());
    }
  }

  @Test
  void big_libraries_open_quickly_because_parsing_is_lazy() {
    List<Path> libraries = List.of(LIBC, Path.of("/usr/lib/x86_64-linux-gnu/libstdc++.so.6"));
    for (Path library : libraries) {
      if (!Files.exists(library)) continue;
      ElfFile.open(library).close();  // warm up class loading
      long start = System.nanoTime();
      for (int i = 0; i < 20; i++) {
        try (ElfFile elf = ElfFile.open(library)) {
          assertFalse(elf.sections().isEmpty());
        }
      }
      long perOpenMicros = (System.nanoTime() - start) / 20 / 1000;
      assertTrue(perOpenMicros < 20_000, library + " took " + perOpenMicros + " us to open");
    }
  }

  @Test
  void debuglink_matches_objcopy() throws IOException {
    Toolchain.require("objcopy");
    Path exe = Fixtures.executable(dir, "linked", true);
    Toolchain.run(dir, "objcopy", "--only-keep-debug", "linked", "linked.debug");
    Toolchain.run(dir, "objcopy", "--strip-debug", "--add-gnu-debuglink=linked.debug", "linked");
    CRC32 crc = new CRC32();
    crc.update(Files.readAllBytes(dir.resolve("linked.debug")));
    try (ElfFile elf = ElfFile.open(exe)) {
      DebugLink link = elf.debugLink().orElseThrow();
      assertEquals("linked.debug", link.fileName());
      assertEquals((int) crc.getValue(), link.crc());
    }
  }

  @Test
  void missing_file_is_a_bad_input_naming_it() {
    Path missing = dir.resolve("nope.o");
    var e = assertThrows(BadInputException.class, () -> ElfFile.open(missing));
    assertEquals(missing + ": cannot read: no such file", e.getMessage());
  }

  @Test
  void relocation_types_have_psabi_names_and_widths() {
    assertEquals("R_X86_64_PLT32", RelocationType.name(RelocationType.R_X86_64_PLT32));
    assertEquals("R_X86_64_REX_GOTPCRELX", RelocationType.name(42));
    assertEquals("R_X86_64_<unknown 99>", RelocationType.name(99));
    assertEquals(4, RelocationType.width(RelocationType.R_X86_64_PC32));
    assertEquals(8, RelocationType.width(RelocationType.R_X86_64_64));
    assertEquals(0, RelocationType.width(99));
  }

  private static ProgramHeader segment(ElfFile elf, int type) {
    return elf.programHeaders().stream().filter(p -> p.type() == type).findFirst().orElseThrow();
  }
}
