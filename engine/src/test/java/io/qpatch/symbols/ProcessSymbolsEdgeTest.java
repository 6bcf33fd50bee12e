package io.qpatch.symbols;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.elf.ElfFile;
import io.qpatch.testing.Toolchain;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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
  void library_loaded_from_a_memfd_is_found_through_map_files() throws IOException, InterruptedException {
    String loader = """
        #define _GNU_SOURCE
        #include <dlfcn.h>
        #include <stdio.h>
        #include <sys/mman.h>
        #include <unistd.h>
        int main(int argc, char **argv) {
          int fd = memfd_create("plugin", 0);
          FILE *in = fopen(argv[1], "rb");
          char buf[4096];
          size_t n;
          while ((n = fread(buf, 1, sizeof buf, in)) > 0) write(fd, buf, n);
          char path[64];
          snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
          if (!dlopen(path, RTLD_NOW)) { puts(dlerror()); return 1; }
          puts("ready");
          fflush(stdout);
          for (;;) sleep(1);
        }
        """;
    Toolchain.compile(dir, "a.c", Target.LIB_A, "liba.so", "-shared", "-fPIC", "-O1");
    Path program = Toolchain.compile(dir, "loader.c", loader, "loader", "-O0");
    Process p = new ProcessBuilder(program.toString(), dir.resolve("liba.so").toString())
        .redirectErrorStream(true).start();
    try (ProcessSymbols symbols = awaitReady(p)) {
      Module plugin = symbols.module("memfd:plugin");
      assertTrue(plugin.mappings().getFirst().isMemfd());
      ResolvedSymbol entry = symbols.lookup("a_entry");
      assertEquals(plugin, entry.module());
      assertEquals("memfd:plugin!a_entry+0x2", symbols.describe(entry.address() + 2));
    } finally {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static ProcessSymbols awaitReady(Process p) throws IOException {
    String line = new BufferedReader(new InputStreamReader(p.getInputStream())).readLine();
    assertEquals("ready", line);
    return ProcessSymbols.of((int) p.pid());
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

  private static long offset(StructLayout layout, String field) {
    return layout.byteOffset(MemoryLayout.PathElement.groupElement(field));
  }
}
