package io.qpatch.arch.x86_64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Real prologues: sleep, printf and malloc of the machine's glibc, read with objdump. */
class GlibcRelocationTest {
  @BeforeAll
  static void prerequisites() {
    NativeTools.requireCapstone();
    Objdump.requireBinutils();
    NativeTools.requireFile(NativeTools.LIBC, "libc6");
  }

  /** 5 bytes for a {@code jmp rel32}; 14 for the absolute {@code jmp [rip]; .quad}. */
  @ParameterizedTest(name = "{0} displacing {1} bytes")
  @CsvSource({"sleep, 5", "printf, 5", "malloc, 5", "sleep, 14", "printf, 14", "malloc, 14"})
  void a_glibc_prologue_relocates_to_the_same_instructions(String name, int minBytes)
      throws Exception {
    Objdump.Function f = Objdump.function(NativeTools.LIBC, name);
    Relocator relocator = new Relocator(Decoder.shared());
    RelocationCheck check = relocator.canRelocate(f.code(), f.address(), minBytes);
    assertTrue(check.isOk(), name + ": " + check.refusal());
    assertTrue(check.consumed() >= minBytes);
    for (long trampoline : List.of(f.address() + 0x10000, f.address() - 0x7000_0000L)) {
      X86Writer out = new X86Writer(trampoline);
      assertEquals(check.consumed(), relocator.relocate(f.code(), f.address(), minBytes, out));
      Equivalence.assertSameInstructions(check, f.address(), out.bytes(), trampoline);
      assertTrue(out.offset() <= check.maxRelocatedSize());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sleep", "printf", "malloc"})
  void the_decoder_finds_the_same_instruction_boundaries_as_objdump(String name) throws Exception {
    Objdump.Function f = Objdump.function(NativeTools.LIBC, name);
    List<Instruction> insns = Decoder.shared().decodeAll(f.code(), f.address());
    assertEquals(f.lines().stream().map(Objdump.Line::address).toList(),
        insns.stream().map(Instruction::address).toList());
    assertEquals(f.lines().stream().filter(GlibcRelocationTest::isRet).map(Objdump.Line::address).toList(),
        new Relocator(Decoder.shared()).findReturnSites(f.code(), f.address()));
  }

  /**
   * A sweep over every exported glibc function: each one is relocated or refused with a
   * reason, and every relocation decodes to the same instructions. Most must relocate.
   */
  @org.junit.jupiter.api.Test
  void every_exported_glibc_function_relocates_faithfully_or_is_refused_with_a_reason()
      throws Exception {
    NativeTools.requireTool("readelf", "binutils");
    byte[] image = Objdump.loadedImage(NativeTools.LIBC);
    Relocator relocator = new Relocator(Decoder.shared());
    java.util.Map<String, Integer> refusals = new java.util.TreeMap<>();
    List<Objdump.Symbol> functions = Objdump.dynamicFunctions(NativeTools.LIBC);
    int relocated = 0;
    for (Objdump.Symbol sym : functions) {
      byte[] code = java.util.Arrays.copyOfRange(image, (int) sym.address(),
          (int) (sym.address() + sym.size()));
      RelocationCheck check = relocator.canRelocate(code, sym.address(), 5);
      if (!check.isOk()) {
        refusals.merge(check.refusal().replaceAll("0x[0-9a-f]+|\\d+", "N")
            .replaceAll("`[^`]*`", "`insn`"), 1, Integer::sum);
        continue;
      }
      long trampoline = sym.address() + 0x1000_0000L;
      X86Writer out = new X86Writer(trampoline);
      relocator.relocate(code, sym.address(), 5, out);
      Equivalence.assertSameInstructions(check, sym.address(), out.bytes(), trampoline);
      relocated++;
    }
    System.out.printf("%d of %d glibc functions relocated; refusals: %s%n", relocated,
        functions.size(), refusals);
    assertTrue(relocated >= functions.size() * 9 / 10, relocated + " of " + functions.size());
  }

  /** objdump writes "ret", "repz ret" or "bnd ret". */
  private static boolean isRet(Objdump.Line line) {
    return List.of(line.text().split("\\s+")).contains("ret");
  }

  /** Not a benchmark: a guard that decoding a whole libc function stays in microseconds. */
  @ParameterizedTest
  @ValueSource(strings = {"malloc"})
  void decoding_a_whole_glibc_function_takes_microseconds(String name) throws Exception {
    Objdump.Function f = Objdump.function(NativeTools.LIBC, name);
    long best = Long.MAX_VALUE;
    for (int run = 0; run < 200; run++) {
      long t0 = System.nanoTime();
      Decoder.shared().decodeAll(f.code(), f.address());
      best = Math.min(best, System.nanoTime() - t0);
    }
    System.out.printf("decoding %s (%d bytes, %d instructions): %d us%n", name, f.code().length,
        f.lines().size(), best / 1000);
    assertTrue(best < 5_000_000, "decoding " + name + " took " + best / 1000 + " us");
  }
}
