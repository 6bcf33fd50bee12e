package io.qpatch.dwarf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.Section;
import io.qpatch.elf.Symbol;
import io.qpatch.testing.Fixtures;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The DWARF reader on gcc and g++ output: DWARF 4 and 5, plain and compressed. */
class DwarfTest {
  static final String C = """
      #include <stdbool.h>
      #include <stddef.h>
      #include <stdio.h>
      struct point { char tag; int x; long y; const char *name; struct point *next; };
      typedef struct point point_t;
      typedef unsigned long ulong;
      union either { int i; double d; };
      __attribute__((noinline)) long add(int a, long b, const char *s, point_t *p, double d,
          bool ok, ulong u, unsigned char c, int arr[4], union either e) {
        return a + b + (s != 0) + p->x + (long) d + ok + u + c + arr[1] + e.i;
      }
      int main(void) {
        struct point pt = {'t', 1, 2, "n", 0};
        int arr[4] = {0};
        union either e = {1};
        printf("%zu %zu %zu %zu %zu %zu\\n", offsetof(struct point, tag),
            offsetof(struct point, x), offsetof(struct point, y), offsetof(struct point, name),
            offsetof(struct point, next), sizeof(struct point));
        return (int) add(1, 2, "s", &pt, 1.0, true, 3, 4, arr, e) == 0;
      }
      """;

  static final String CXX = """
      namespace ns {
      struct Foo {
        int k;
        __attribute__((noinline)) int bar(int x) const { return k + x; }
      };
      }
      int main() { ns::Foo f{1}; return f.bar(2) == 0; }
      """;

  static Dwarf dwarf(ElfFile elf) {
    return Dwarf.of(elf).orElseThrow(() -> new AssertionError("no DWARF in " + elf.name()));
  }

  @ParameterizedTest(name = "gcc {0}")
  @ValueSource(strings = {"-gdwarf-5", "-gdwarf-4", "-gz", "-gz=zlib-gnu", "-O2"})
  void c_function_params_and_types(String flag) {
    Path exe = Fixtures.c("dwarfc", C, flag);
    try (ElfFile elf = ElfFile.open(exe)) {
      Dwarf d = dwarf(elf);
      DwarfFunction add = d.function("add").orElseThrow();
      Symbol sym = elf.symtab().orElseThrow().named("add").getFirst();
      assertEquals(sym.value(), add.lowPc());
      assertEquals(sym.value() + sym.size(), add.highPc());
      assertEquals(add, d.functionAt(add.lowPc() + 1).orElseThrow());
      List<DwarfParam> ps = add.params();
      assertEquals(List.of("a", "b", "s", "p", "d", "ok", "u", "c", "arr", "e"),
          ps.stream().map(DwarfParam::name).toList());
      assertEquals(List.of("int", "long int", "const char*", "point_t*", "double", "_Bool",
          "ulong", "unsigned char", "int*", "either"),
          ps.stream().map(p -> p.type().name()).toList());
      assertBase(ps.get(0).type(), Encoding.SIGNED, 4);
      assertBase(ps.get(4).type(), Encoding.FLOAT, 8);
      assertBase(ps.get(5).type(), Encoding.BOOLEAN, 1);
      assertBase(ps.get(6).type().resolved(), Encoding.UNSIGNED, 8);
      assertBase(ps.get(7).type(), Encoding.UNSIGNED_CHAR, 1);
      DwarfType point = ps.get(3).type().target().resolved();
      assertEquals(DwarfType.Kind.STRUCT, point.kind());
      assertEquals("point", point.name());
      assertEquals(DwarfType.Kind.UNION, ps.get(9).type().kind());
      assertTrue(ps.stream().noneMatch(DwarfParam::output));
    }
  }

  private static void assertBase(DwarfType t, Encoding encoding, long size) {
    assertEquals(DwarfType.Kind.BASE, t.kind(), t.name());
    assertEquals(encoding, t.encoding(), t.name());
    assertEquals(size, t.size(), t.name());
  }

  @ParameterizedTest(name = "gcc {0}")
  @ValueSource(strings = {"-gdwarf-5", "-gdwarf-4", "-gz", "-gz=zlib-gnu"})
  void struct_member_offsets_equal_offsetof(String flag) {
    Path exe = Fixtures.c("dwarfc", C, flag);
    String printed = Fixtures.run(List.of(exe.toString())).trim();
    try (ElfFile elf = ElfFile.open(exe)) {
      Dwarf d = dwarf(elf);
      DwarfType point = d.struct("point").orElseThrow();
      StringBuilder fromDwarf = new StringBuilder();
      for (String m : List.of("tag", "x", "y", "name", "next")) {
        fromDwarf.append(d.memberOffset("point", m).orElseThrow()).append(' ');
      }
      fromDwarf.append(point.size());
      assertEquals(printed, fromDwarf.toString());
      assertEquals(point, d.struct("point_t").orElseThrow(), "typedef resolves to the struct");
      DwarfType next = point.member("next").orElseThrow().type();
      assertEquals(point, next.target(), "a self-referencing pointer ends at the same type");
      assertEquals(DwarfType.Kind.ARRAY, DwarfType.Kind.valueOf("ARRAY"));
    }
  }

  @Test
  void sections_compressed_both_ways_decompress_to_the_same_dwarf() {
    try (ElfFile plain = ElfFile.open(Fixtures.c("dwarfc", C, "-gdwarf-5"));
        ElfFile gabi = ElfFile.open(Fixtures.c("dwarfc", C, "-gdwarf-5", "-gz"));
        ElfFile gnu = ElfFile.open(Fixtures.c("dwarfc", C, "-gdwarf-5", "-gz=zlib-gnu"))) {
      Section info = gabi.section(".debug_info").orElseThrow();
      assertTrue((info.flags() & Section.SHF_COMPRESSED) != 0, "gcc -gz sets SHF_COMPRESSED");
      assertTrue(gnu.section(".zdebug_info").isPresent(), "-gz=zlib-gnu writes .zdebug_info");
      List<String> expected = names(dwarf(plain));
      assertEquals(expected, names(dwarf(gabi)));
      assertEquals(expected, names(dwarf(gnu)));
    }
  }

  private static List<String> names(Dwarf d) {
    return d.functions().stream().map(f -> f.name() + f.params()).toList();
  }

  @Test
  void cxx_method_found_by_linkage_name_with_this_first() {
    try (ElfFile elf = ElfFile.open(Fixtures.cxx("dwarfcxx", CXX, "-gdwarf-5"))) {
      Dwarf d = dwarf(elf);
      DwarfFunction bar = d.function("_ZNK2ns3Foo3barEi").orElseThrow();
      assertEquals("bar", bar.name());
      Symbol sym = elf.symtab().orElseThrow().named("_ZNK2ns3Foo3barEi").getFirst();
      assertEquals(sym.value(), bar.lowPc());
      assertEquals(List.of("this", "x"), bar.params().stream().map(DwarfParam::name).toList());
      DwarfType self = bar.params().getFirst().type().resolved();
      assertEquals(DwarfType.Kind.POINTER, self.kind());
      assertEquals("Foo", self.target().resolved().name());
      assertEquals(0, d.memberOffset("Foo", "k").orElseThrow());
    }
  }

  @Test
  void a_file_without_debug_info_has_no_dwarf() {
    try (ElfFile elf = ElfFile.open(Fixtures.c("nodwarf", C, "-g0"))) {
      assertFalse(Dwarf.of(elf).isPresent());
    }
  }

  @Test
  void producers_name_the_compiler() {
    try (ElfFile elf = ElfFile.open(Fixtures.c("dwarfc", C, "-gdwarf-5"))) {
      assertTrue(dwarf(elf).producers().stream().anyMatch(p -> p.startsWith("GNU C")),
          dwarf(elf).producers().toString());
    }
  }
}
