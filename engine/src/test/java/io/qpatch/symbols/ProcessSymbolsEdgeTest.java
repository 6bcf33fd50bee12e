package io.qpatch.symbols;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.Toolchain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Non-PIE programs and programs whose file was deleted (or has spaces in its path). */
class ProcessSymbolsEdgeTest {
  @TempDir Path dir;

  @Test
  void non_pie_program_has_zero_load_bias() throws IOException {
    Path program = Target.build(dir, "nopie", false);
    long linkedMain;
    try (ElfFile elf = ElfFile.open(program)) {
      linkedMain = elf.symtab().orElseThrow().named("main").getFirst().value();
    }
    try (Target t = Target.start(program); ProcessSymbols symbols = ProcessSymbols.of(t.pid())) {
      assertEquals(0, symbols.mainProgram().orElseThrow().loadBias());
      assertEquals(linkedMain, symbols.lookup("main").address());
      Map<String, Long> gdb = Gdb.addresses(t.pid(), "sleep");
      assertEquals(gdb.get("sleep"), symbols.lookup("sleep").address());
    }
  }

  @Test
  void deleted_program_with_spaces_in_its_path_is_opened_through_map_files()
      throws IOException {
    Path built = Target.build(dir, "prog", true);
    Path spaced = Files.createDirectory(dir.resolve("dir with space"));
    Path program = Files.copy(built, spaced.resolve("my prog"));
    long linkedMain;
    try (ElfFile elf = ElfFile.open(program)) {
      linkedMain = elf.symtab().orElseThrow().named("main").getFirst().value();
    }
    try (Target t = Target.start(program)) {
      Files.delete(program);
      try (ProcessSymbols symbols = ProcessSymbols.of(t.pid())) {
        Module main = symbols.mainProgram().orElseThrow();
        assertEquals(program + " (deleted)", main.path());
        assertTrue(main.mappings().getFirst().isDeleted());
        long address = symbols.lookup("main").address();
        assertTrue(main.contains(address));
        assertEquals("main", symbols.describe(address));
        assertEquals(main.base() + linkedMain, address, "gdb cannot read a deleted program");
      }
    }
  }

  @Test
  void link_map_layouts_match_the_c_headers() {
    String source = """
        #include <elf.h>
        #include <link.h>
        #include <stddef.h>
        #include <stdio.h>
        int main(void) {
          printf("%zu %zu %zu %zu\\n", sizeof(Elf64_Dyn), offsetof(Elf64_Dyn, d_un),
                 sizeof(struct r_debug), offsetof(struct r_debug, r_map));
          printf("%zu %zu %zu %zu\\n", offsetof(struct link_map, l_addr),
                 offsetof(struct link_map, l_ld), offsetof(struct link_map, l_next),
                 offsetof(struct link_map, l_prev));
          return 0;
        }
        """;
    Path program = Toolchain.compile(dir, "layouts.c", source, "layouts");
    String expected = Toolchain.run(dir, program.toString());
    String actual = String.format("%d %d %d %d%n%d %d %d %d%n",
        LinkMapLayouts.DYN.byteSize(), offset(LinkMapLayouts.DYN, "d_val"),
        LinkMapLayouts.R_DEBUG.byteSize(), offset(LinkMapLayouts.R_DEBUG, "r_map"),
        offset(LinkMapLayouts.LINK_MAP, "l_addr"), offset(LinkMapLayouts.LINK_MAP, "l_ld"),
        offset(LinkMapLayouts.LINK_MAP, "l_next"), offset(LinkMapLayouts.LINK_MAP, "l_prev"));
    assertEquals(expected, actual);
  }

  private static long offset(java.lang.foreign.StructLayout layout, String field) {
    return layout.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement(field));
  }
}
