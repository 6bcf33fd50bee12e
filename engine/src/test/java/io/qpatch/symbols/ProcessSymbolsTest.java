package io.qpatch.symbols;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.elf.ElfFile;
import io.qpatch.error.BadInputException;
import io.qpatch.proc.Mapping;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Resolves symbols in a live PIE process and checks the answers against gdb. */
class ProcessSymbolsTest {
  @TempDir static Path dir;
  static Target target;
  static ProcessSymbols symbols;

  @BeforeAll
  static void start() throws IOException {
    target = Target.start(Target.build(dir, "target", true));
    symbols = ProcessSymbols.of(target.pid());
  }

  @AfterAll
  static void stop() {
    if (symbols != null) symbols.close();
    if (target != null) target.close();
  }

  @Test
  void main_sleep_printf_and_vdso_match_gdb() {
    Map<String, Long> gdb = Gdb.addresses(target.pid(), "main", "sleep", "printf",
        "__vdso_clock_gettime");
    assertEquals(4, gdb.size(), "gdb answered " + gdb);
    for (var e : gdb.entrySet()) {
      assertEquals(Long.toHexString(e.getValue()),
          Long.toHexString(symbols.lookup(e.getKey()).address()), e.getKey());
    }
  }

  @Test
  void addresses_describe_as_symbol_plus_offset_and_round_trip() {
    ResolvedSymbol sleep = symbols.lookup("sleep");
    assertEquals("libc.so.6!sleep", symbols.describe(sleep.address()));
    assertEquals("libc.so.6!sleep+0x4", symbols.describe(sleep.address() + 4));
    long main = symbols.lookup("main").address();
    assertEquals("main+0x10", symbols.describe(main + 0x10));
    Location inHelper = symbols.locate(symbols.lookup("liba.so!helper").address() + 1);
    assertEquals("liba.so!helper+0x1", inHelper.toString());
    String name = inHelper.module().name() + "!" + inHelper.symbol().name();
    assertEquals(inHelper.address() - 1, symbols.lookup(name).address());
    assertEquals("0x10", symbols.describe(0x10));
  }

  @Test
  void qualified_lookup_accepts_file_names_prefixes_and_versions() {
    long sleep = symbols.lookup("sleep").address();
    assertEquals(sleep, symbols.lookup("libc.so.6!sleep").address());
    assertEquals(sleep, symbols.lookup("libc!sleep").address());
    assertEquals(sleep, symbols.lookup("libc.so.6!sleep@@GLIBC_2.2.5").address());
    assertEquals(sleep, symbols.lookup("sleep@GLIBC_2.2.5").address());
    assertEquals("libc.so.6!sleep@@GLIBC_2.2.5", symbols.lookup("sleep").qualifiedName());
    Module liba = symbols.module("liba");
    assertTrue(liba.contains(symbols.lookup("liba.so!helper").address()));
    BadInputException e = assertThrows(BadInputException.class, () -> symbols.lookup("nomod!x"));
    assertTrue(e.getMessage().startsWith("no module 'nomod' in process " + target.pid()
        + " (modules: target, "), e.getMessage());
  }

  @Test
  void static_functions_with_one_name_in_two_libraries_are_ambiguous() {
    long a = symbols.lookup("liba.so!helper").address();
    long b = symbols.lookup("libb.so!helper").address();
    assertNotEquals(a, b);
    BadInputException e = assertThrows(BadInputException.class, () -> symbols.lookup("helper"));
    assertEquals(String.format("symbol 'helper' is ambiguous in process %d: liba.so!helper at"
        + " 0x%x (local), libb.so!helper at 0x%x (local); name one as MODULE!helper",
        target.pid(), a, b), e.getMessage());
  }

  @Test
  void exported_symbol_in_two_libraries_resolves_in_load_order() {
    assertEquals(symbols.lookup("liba.so!shared_fn").address(),
        symbols.lookup("shared_fn").address());
    assertEquals(2, symbols.lookupAll("shared_fn").size());
    List<String> order = symbols.modules().stream().map(Module::name).toList();
    assertEquals("target", order.getFirst());
    assertTrue(order.indexOf("liba.so") < order.indexOf("libb.so"), order.toString());
    assertTrue(order.indexOf("libb.so") < order.indexOf("libc.so.6"), order.toString());
    assertEquals("[vdso]", order.getLast());
  }

  @Test
  void missing_symbol_names_the_modules_searched() {
    BadInputException e =
        assertThrows(BadInputException.class, () -> symbols.lookup("no_such_symbol"));
    assertEquals("symbol 'no_such_symbol' not found in process " + target.pid()
        + " (searched: target, liba.so, libb.so, libc.so.6, ld-linux-x86-64.so.2, [vdso])",
        e.getMessage());
    BadInputException tls = assertThrows(BadInputException.class, () -> symbols.lookup("errno"));
    assertTrue(tls.getMessage().contains("is thread-local"), tls.getMessage());
  }

  @Test
  void vdso_symbols_are_read_from_memory() {
    Module vdso = symbols.module("vdso");
    ResolvedSymbol viaAlias = symbols.lookup("vdso!clock_gettime");
    assertEquals(symbols.lookup("__vdso_clock_gettime").address(), viaAlias.address());
    assertTrue(vdso.contains(viaAlias.address()));
    assertEquals("[vdso]", vdso.elf().name());
    assertEquals("libc.so.6", symbols.lookup("clock_gettime").module().name(),
        "the program's clock_gettime is libc's; the vdso is not in the global scope");
    assertTrue(symbols.lookupAll("clock_gettime").size() >= 3);
  }

  @Test
  void load_bias_and_build_id_match_the_files() {
    Module main = symbols.mainProgram().orElseThrow();
    assertEquals(main.base(), main.loadBias(), "a PIE is linked at 0");
    Module libc = symbols.module("libc.so.6");
    assertEquals(libc.base(), libc.loadBias());
    try (ElfFile file = ElfFile.open(Path.of("/lib/x86_64-linux-gnu/libc.so.6"))) {
      assertEquals(file.buildId(), libc.buildId());
      long sleepValue = file.dynsym().orElseThrow().named("sleep").getFirst().value();
      assertEquals(libc.loadBias() + sleepValue, symbols.lookup("sleep").address());
    }
    Mapping first = main.mappings().getFirst();
    assertEquals(0, first.offset());
  }
}
