package io.qpatch.trace.go;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.arch.x86_64.Instruction;
import io.qpatch.elf.ElfFile;
import io.qpatch.testing.GoToolchains.GoToolchain;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Stack-check prologues recognised in real compiler output, byte for byte. */
class StackCheckTest {
  static List<GoToolchain> toolchains() {
    return GoFixture.toolchains();
  }

  private static void withStripped(GoToolchain tc, Consumer<GoBinary> body) {
    try (ElfFile elf = ElfFile.open(GoFixture.stripped(tc))) {
      body.accept(GoBinary.of(elf).orElseThrow());
    }
  }

  private static StackCheck check(GoBinary g, String name) {
    return g.stackCheck(g.function(name).orElseThrow(() -> new AssertionError(name)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void small_frame_compares_rsp_with_the_guard_in_r14(GoToolchain tc) {
    withStripped(tc, g -> {
      StackCheck c = check(g, "main.work");
      GoFunction f = c.function();
      assertEquals(StackCheck.Shape.SMALL_FRAME, c.shape());
      assertEquals(StackCheck.GSource.R14, c.gSource().orElseThrow());
      // 49 3b 66 10    cmp rsp, qword ptr [r14 + 0x10]
      Instruction cmp = c.compare().orElseThrow();
      assertArrayEquals(new byte[] {0x49, 0x3b, 0x66, 0x10}, cmp.bytes());
      assertEquals(f.entry(), cmp.address());
      assertEquals(cmp, c.entry().equals(cmp) ? cmp : c.entry());
      Instruction jbe = c.branch().orElseThrow();
      assertEquals(cmp.end(), jbe.address());
      assertEquals("jbe", jbe.mnemonic());
      // 76 rel8 or 0f 86 rel32
      assertTrue(jbe.byteAt(0) == 0x76 || (jbe.byteAt(0) == 0x0f && jbe.byteAt(1) == 0x86));
      long target = c.morestackTarget().orElseThrow();
      assertTrue(f.contains(target) && target > jbe.address(), "morestack block inside main.work");
      assertEquals(0, c.frameReserve());
      assertEquals(List.of(cmp, jbe), c.prologue());
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void nosplit_function_has_no_stack_check(GoToolchain tc) {
    withStripped(tc, g -> {
      StackCheck c = check(g, "main.leaf");
      assertEquals(StackCheck.Shape.NONE, c.shape());
      assertFalse(c.hasCheck());
      assertTrue(c.compare().isEmpty() && c.branch().isEmpty());
      assertEquals(c.function().entry(), c.entry().address());
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void large_frame_compares_r12_after_lea(GoToolchain tc) {
    withStripped(tc, g -> {
      StackCheck c = check(g, "main.main");
      assertEquals(StackCheck.Shape.LARGE_FRAME, c.shape());
      assertEquals("lea", c.entry().mnemonic());
      // 4d 3b 66 10    cmp r12, qword ptr [r14 + 0x10]
      assertArrayEquals(new byte[] {0x4d, 0x3b, 0x66, 0x10}, c.compare().orElseThrow().bytes());
      assertTrue(c.frameReserve() > 0 && c.frameReserve() <= 4096);
      assertEquals(0x7ff0000 - c.frameReserve(), c.comparedValue(0x7ff0000));
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void huge_frame_guards_against_underflow_first(GoToolchain tc) {
    withStripped(tc, g -> {
      StackCheck c = check(g, "main.big");
      assertEquals(StackCheck.Shape.HUGE_FRAME, c.shape());
      List<String> mnemonics = c.prologue().stream().map(Instruction::mnemonic).toList();
      assertEquals(List.of("mov", "sub", "jb", "cmp", "jbe"), mnemonics);
      assertTrue(c.frameReserve() > 10000 - 256, "frame of a 10000-byte array");
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void abi0_assembly_loads_g_from_tls(GoToolchain tc) {
    withStripped(tc, g -> {
      GoFunction f = g.functions().stream().filter(x -> x.name().endsWith("debugCall128"))
          .findFirst().orElseThrow();
      StackCheck c = g.stackCheck(f);
      assertEquals(StackCheck.GSource.TLS, c.gSource().orElseThrow());
      // 64 4c 8b 34 25 f8 ff ff ff    mov r14, qword ptr fs:[0xfffffffffffffff8]
      assertArrayEquals(new byte[] {0x64, 0x4c, (byte) 0x8b, 0x34, 0x25, (byte) 0xf8, (byte) 0xff,
          (byte) 0xff, (byte) 0xff}, c.entry().bytes());
      assertEquals(StackCheck.Shape.LARGE_FRAME, c.shape());
      assertEquals("R14", c.gRegister().orElseThrow().name());
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void most_functions_have_a_recognised_check(GoToolchain tc) {
    withStripped(tc, g -> {
      long checked = g.functions().stream().filter(f -> g.stackCheck(f).hasCheck()).count();
      assertTrue(checked > g.functions().size() / 3,
          checked + " of " + g.functions().size() + " functions have a stack check");
    });
  }
}
