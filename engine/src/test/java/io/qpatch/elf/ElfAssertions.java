package io.qpatch.elf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.List;
import java.util.Map;

/** Field-by-field comparisons of an {@link ElfFile} with readelf's view of the same file. */
final class ElfAssertions {
  private ElfAssertions() {}

  static void sectionsMatch(List<Readelf.SectionRow> expected, ElfFile elf) {
    assertEquals(expected.size(), elf.sections().size(), "section count");
    for (Readelf.SectionRow row : expected) {
      Section s = elf.section(row.index());
      String where = elf.name() + " " + s;
      assertEquals(row.name(), s.name(), where);
      assertEquals(row.type(), sectionTypeName(s.type()), where);
      assertEquals(row.addr(), s.addr(), where);
      assertEquals(row.offset(), s.offset(), where);
      assertEquals(row.size(), s.size(), where);
    }
  }

  static void symbolsMatch(List<Readelf.SymbolRow> expected, SymbolTable table) {
    assertNotNull(expected, "readelf shows no " + table.section().name());
    assertEquals(expected.size(), table.size(), table.section().name() + " entries");
    for (Readelf.SymbolRow row : expected) {
      Symbol s = table.get(row.index());
      String where = table.section().name() + " " + row;
      assertEquals(row.value(), s.value(), where);
      assertEquals(row.size(), s.size(), where);
      assertEquals(row.type(), Symbol.typeName(s.type()), where);
      assertEquals(row.bind(), Symbol.bindName(s.bind()), where);
      assertEquals(row.vis(), visibilityName(s.visibility()), where);
      assertEquals(row.ndx(), indexName(s.sectionIndex()), where);
      if (s.type() != Symbol.STT_SECTION) {
        assertEquals(row.name().replaceFirst(" \\(\\d+\\)$", ""), s.versionedName(), where);
      }
    }
  }

  static void relocationsMatch(Map<String, List<Readelf.RelocationRow>> expected, ElfFile elf) {
    assertEquals(expected.size(), elf.relocationSections().size(), "relocation sections");
    for (RelocationSection rs : elf.relocationSections()) {
      List<Readelf.RelocationRow> rows = expected.get(rs.section().name());
      assertNotNull(rows, "readelf shows no " + rs.section().name());
      assertEquals(rows.size(), rs.relocations().size(), rs.section().name());
      for (int i = 0; i < rows.size(); i++) {
        Relocation r = rs.relocations().get(i);
        Readelf.RelocationRow row = rows.get(i);
        assertEquals(row.offset(), r.offset(), row.toString());
        assertEquals(row.info() >>> 32, r.symbolIndex(), row.toString());
        assertEquals(row.info() & 0xffffffffL, r.type(), row.toString());
        assertEquals(row.typeName(), r.typeName(), row.toString());
      }
    }
  }

  static void segmentsMatch(List<Readelf.SegmentRow> expected, ElfFile elf) {
    assertEquals(expected.size(), elf.programHeaders().size(), "segment count");
    for (int i = 0; i < expected.size(); i++) {
      Readelf.SegmentRow row = expected.get(i);
      ProgramHeader p = elf.programHeaders().get(i);
      assertEquals(row.type(), segmentTypeName(p.type()), row.toString());
      assertEquals(row.offset(), p.offset(), row.toString());
      assertEquals(row.vaddr(), p.vaddr(), row.toString());
      assertEquals(row.filesz(), p.filesz(), row.toString());
      assertEquals(row.memsz(), p.memsz(), row.toString());
    }
  }

  private static String sectionTypeName(int type) {
    return switch (type) {
      case Section.SHT_NULL -> "NULL";
      case Section.SHT_PROGBITS -> "PROGBITS";
      case Section.SHT_SYMTAB -> "SYMTAB";
      case Section.SHT_STRTAB -> "STRTAB";
      case Section.SHT_RELA -> "RELA";
      case Section.SHT_HASH -> "HASH";
      case Section.SHT_DYNAMIC -> "DYNAMIC";
      case Section.SHT_NOTE -> "NOTE";
      case Section.SHT_NOBITS -> "NOBITS";
      case Section.SHT_DYNSYM -> "DYNSYM";
      case Section.SHT_INIT_ARRAY -> "INIT_ARRAY";
      case Section.SHT_FINI_ARRAY -> "FINI_ARRAY";
      case Section.SHT_GROUP -> "GROUP";
      case Section.SHT_GNU_HASH -> "GNU_HASH";
      case Section.SHT_GNU_VERDEF -> "VERDEF";
      case Section.SHT_GNU_VERNEED -> "VERNEED";
      case Section.SHT_GNU_VERSYM -> "VERSYM";
      case Section.SHT_X86_64_UNWIND -> "X86_64_UNWIND";
      default -> "0x" + Integer.toHexString(type);
    };
  }

  private static String segmentTypeName(int type) {
    return switch (type) {
      case ProgramHeader.PT_LOAD -> "LOAD";
      case ProgramHeader.PT_DYNAMIC -> "DYNAMIC";
      case ProgramHeader.PT_INTERP -> "INTERP";
      case ProgramHeader.PT_NOTE -> "NOTE";
      case ProgramHeader.PT_PHDR -> "PHDR";
      case ProgramHeader.PT_TLS -> "TLS";
      case ProgramHeader.PT_GNU_EH_FRAME -> "GNU_EH_FRAME";
      case ProgramHeader.PT_GNU_STACK -> "GNU_STACK";
      case ProgramHeader.PT_GNU_RELRO -> "GNU_RELRO";
      case ProgramHeader.PT_GNU_PROPERTY -> "GNU_PROPERTY";
      default -> "0x" + Integer.toHexString(type);
    };
  }

  private static String visibilityName(int visibility) {
    return List.of("DEFAULT", "INTERNAL", "HIDDEN", "PROTECTED").get(visibility);
  }

  private static String indexName(int index) {
    return switch (index) {
      case Symbol.SHN_UNDEF -> "UND";
      case Symbol.SHN_ABS -> "ABS";
      case Symbol.SHN_COMMON -> "COM";
      default -> Integer.toString(index);
    };
  }
}
