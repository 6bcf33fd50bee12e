package io.qpatch.trace.go;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.elf.ElfFile;
import io.qpatch.testing.GoToolchains.GoToolchain;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** GoBinary against real builds by every installed Go toolchain, with and without DWARF. */
class GoBinaryTest {
  static List<GoToolchain> toolchains() {
    return GoFixture.toolchains();
  }

  private static void with(Path path, Consumer<GoBinary> body) {
    try (ElfFile elf = ElfFile.open(path)) {
      body.accept(GoBinary.of(elf).orElseThrow());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void version_is_what_go_version_prints(GoToolchain tc) {
    String printed = tc.run(Path.of("."), "version").trim();
    for (Path p : List.of(GoFixture.unstripped(tc), GoFixture.stripped(tc))) {
      with(p, g -> {
        assertEquals("go version " + g.version() + " linux/amd64", printed);
        assertEquals(tc.version(), g.version());
        assertEquals(tc.majorMinor(), g.majorMinor());
      });
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void pclntab_entries_match_go_tool_nm(GoToolchain tc) {
    Path exe = GoFixture.unstripped(tc);
    Map<String, List<Long>> nm = tc.nmText(exe);
    with(exe, g -> {
      for (String name : List.of("main.main", "main.work", "main.(*T).M", "runtime.newproc1")) {
        GoFunction f = g.function(name).orElseThrow(() -> new AssertionError(name));
        assertEquals(List.of(f.entry()), nm.get(name), name);
        assertEquals(f, g.functionAt(f.entry() + f.size() / 2).orElseThrow());
      }
      int compared = 0;
      for (GoFunction f : g.functions()) {
        // The symbol table calls an assembly function's ABI0 body "NAME.abi0"; pclntab
        // names it and its ABIInternal wrapper alike.
        List<Long> addresses = new java.util.ArrayList<>(nm.getOrDefault(f.name(), List.of()));
        addresses.addAll(nm.getOrDefault(f.name() + ".abi0", List.of()));
        if (addresses.isEmpty()) continue;
        assertTrue(addresses.contains(f.entry()), f.name() + " at 0x" + Long.toHexString(f.entry())
            + " but nm says " + addresses);
        assertTrue(f.end() > f.entry(), f.name());
        compared++;
      }
      assertTrue(compared > 1000, "only " + compared + " functions in both nm and pclntab");
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void stripped_build_has_the_same_functions_from_pclntab(GoToolchain tc) {
    Path stripped = GoFixture.stripped(tc);
    try (ElfFile s = ElfFile.open(stripped); ElfFile u = ElfFile.open(GoFixture.unstripped(tc))) {
      assertTrue(s.symtab().isEmpty(), "-s should drop .symtab");
      GoBinary gs = GoBinary.of(s).orElseThrow();
      GoBinary gu = GoBinary.of(u).orElseThrow();
      assertTrue(gs.dwarf().isEmpty(), "-w should drop DWARF");
      assertEquals(gu.functions(), gs.functions());
      assertTrue(gs.function("main.work").isPresent());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void goid_offset_comes_from_dwarf_and_the_table_agrees(GoToolchain tc) {
    with(GoFixture.unstripped(tc), g -> {
      GoBinary.GoidOffset fromDwarf = g.goidOffset();
      assertEquals(GoBinary.GoidSource.DWARF, fromDwarf.source());
      assertEquals(GoidOffsets.forVersion(g.goVersion()).orElseThrow(), fromDwarf.offset(),
          "GoidOffsets table entry for " + tc.version());
    });
    with(GoFixture.stripped(tc), g -> {
      GoBinary.GoidOffset fromTable = g.goidOffset();
      assertEquals(GoBinary.GoidSource.VERSION_TABLE, fromTable.source());
      assertEquals(GoidOffsets.forVersion(g.goVersion()).orElseThrow(), fromTable.offset());
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void register_abi_since_go_1_17(GoToolchain tc) {
    with(GoFixture.stripped(tc), g -> {
      assertEquals(GoAbi.REGISTER, g.abi());
      assertEquals("R14", g.abi().gRegister().orElseThrow().name());
      assertEquals(List.of("RAX", "RBX", "RCX", "RDI", "RSI", "R8", "R9", "R10", "R11"),
          g.abi().integerArgRegisters().stream().map(Enum::name).toList());
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void return_sites_are_the_ret_instructions(GoToolchain tc) {
    with(GoFixture.stripped(tc), g -> {
      for (String name : List.of("main.work", "main.four", "main.main")) {
        GoFunction f = g.function(name).orElseThrow();
        List<Long> rets = g.returnSites(f);
        assertFalse(rets.isEmpty(), name);
        byte[] code = g.code(f);
        for (long r : rets) {
          assertTrue(f.contains(r), name);
          assertEquals(0xc3, code[(int) (r - f.entry())] & 0xff, name + " at 0x" + Long.toHexString(r));
        }
      }
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void params_of_the_four_parameter_function_have_abi_registers(GoToolchain tc) {
    with(GoFixture.unstripped(tc), g -> {
      List<GoParam> ps = g.params(g.function("main.four").orElseThrow()).orElseThrow();
      assertEquals(List.of(
          "x int @RAX",
          "s string @RBX,RCX",
          "b []uint8 @RDI,RSI,R8",
          "ok bool @R9",
          "result ~r0 int @RAX",
          "result ~r1 error @RBX,RCX"), ps.stream().map(GoParam::toString).toList());
      assertEquals(List.of("str", "len"),
          ps.get(1).location().slots().stream().map(GoParam.Slot::part).toList());
      assertEquals(List.of("array", "len", "cap"),
          ps.get(2).location().slots().stream().map(GoParam.Slot::part).toList());
      assertEquals(1, ps.get(3).location().slots().getFirst().size());
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void method_receiver_comes_first(GoToolchain tc) {
    with(GoFixture.unstripped(tc), g -> {
      List<GoParam> ps = g.params(g.function("main.(*T).M").orElseThrow()).orElseThrow();
      assertEquals(List.of("t *main.T @RAX", "k int @RBX", "result ~r0 int @RAX"),
          ps.stream().map(GoParam::toString).toList());
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void floats_arrays_and_overflow_follow_the_abi_rules(GoToolchain tc) {
    with(GoFixture.unstripped(tc), g -> {
      List<GoParam> mixed = g.params(g.function("main.mixed").orElseThrow()).orElseThrow();
      // f: X0; a [2]int: arrays longer than 1 go on the stack; n: the first integer register
      // again; c: two float registers; one [1]string: recursively its element.
      assertEquals(List.of(
          "f float64 @X0",
          "a [2]int @stack+0x8",
          "n int @RAX",
          "c complex128 @X1,X2",
          "one [1]string @RBX,RCX",
          "result ~r0 float64 @X0"), mixed.stream().map(GoParam::toString).toList());
      assertFalse(mixed.getFirst().location().slots().getFirst().decoded());
      List<GoParam> many = g.params(g.function("main.many").orElseThrow()).orElseThrow();
      assertEquals("i int @R11", many.get(8).toString());
      assertEquals("j int @stack+0x8", many.get(9).toString());
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void stripped_binary_has_no_params(GoToolchain tc) {
    with(GoFixture.stripped(tc), g ->
        assertTrue(g.params(g.function("main.four").orElseThrow()).isEmpty()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void pie_builds_keep_the_table_in_data_rel_ro(GoToolchain tc) {
    Path pie = tc.build("gometa-pie", GoFixture.SOURCE, "-buildmode=pie");
    Path pieStripped = tc.build("gometa-pie-s", GoFixture.SOURCE, "-buildmode=pie",
        "-ldflags=-s -w");
    assertSameFunctionsAsNm(tc, pie, pieStripped);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void externally_linked_builds_find_runtime_text_after_the_c_code(GoToolchain tc) {
    Path ext = tc.buildCgo("gometa-ext", GoFixture.SOURCE, "-ldflags=-linkmode=external");
    Path extStripped = tc.buildCgo("gometa-ext-s", GoFixture.SOURCE,
        "-ldflags=-linkmode=external -s -w");
    assertSameFunctionsAsNm(tc, ext, extStripped);
  }

  private static void assertSameFunctionsAsNm(GoToolchain tc, Path full, Path stripped) {
    Map<String, List<Long>> nm = tc.nmText(full);
    try (ElfFile f = ElfFile.open(full); ElfFile s = ElfFile.open(stripped)) {
      GoBinary gf = GoBinary.of(f).orElseThrow();
      GoBinary gs = GoBinary.of(s).orElseThrow();
      for (String name : List.of("main.main", "main.work", "runtime.newproc1")) {
        assertEquals(nm.get(name), List.of(gs.function(name).orElseThrow().entry()), name);
      }
      assertEquals(gf.functions(), gs.functions());
      assertEquals(StackCheck.Shape.SMALL_FRAME,
          gs.stackCheck(gs.function("main.work").orElseThrow()).shape());
    }
  }
}
