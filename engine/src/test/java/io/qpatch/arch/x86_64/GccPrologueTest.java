package io.qpatch.arch.x86_64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Prologues gcc actually emits, at -O0 and -O2, with and without CET's endbr64, from a
 * .o built for the test and linked into a shared object, so that calls and RIP-relative
 * operands carry real displacements (in the bare .o they are 0, and {@code call puts}
 * would seem to call the next instruction, inside the displaced bytes).
 */
class GccPrologueTest {
  private static final String SOURCE = """
      #include <stdio.h>
      int counter;
      int add_one(int x) { return x + 1; }
      int bump(void) { return ++counter; }
      long sum(const long *a, int n) { long s = 0; for (int i = 0; i < n; i++) s += a[i]; return s; }
      int call_puts(const char *s) { return puts(s) + 1; }
      int fill(char *out, int n) {
        char buf[256];
        snprintf(buf, sizeof buf, "%d", n);
        int i = 0;
        while (buf[i]) { out[i] = buf[i]; i++; }
        return i;
      }
      """;
  private static final List<String> FUNCTIONS = List.of("add_one", "bump", "sum", "call_puts", "fill");

  @TempDir static Path dir;

  @BeforeAll
  static void prerequisites() throws Exception {
    NativeTools.requireCapstone();
    NativeTools.requireTool("gcc", "gcc");
    Objdump.requireBinutils();
    Files.writeString(dir.resolve("prologues.c"), SOURCE);
  }

  private static Map<String, Objdump.Function> compile(String opt, String cet) throws Exception {
    String object = "p" + opt + cet + ".o";
    String shared = "libp" + opt + cet + ".so";
    NativeTools.run(dir, "gcc", "-c", opt, "-fcf-protection=" + cet, "-fPIC",
        "-fstack-protector-strong", "-o", object, "prologues.c");
    NativeTools.run(dir, "gcc", "-shared", "-fcf-protection=" + cet, "-o", shared, object);
    Map<String, Objdump.Function> functions = Objdump.functions(dir.resolve(shared));
    assertTrue(functions.keySet().containsAll(FUNCTIONS), "objdump saw " + functions.keySet());
    return functions;
  }

  /**
   * Every function relocates to the same instructions, except where the function is shorter
   * than the jump: -O2's add_one is {@code lea eax,[rdi+1]; ret} (plus endbr64 with CET).
   */
  @ParameterizedTest(name = "gcc {0} -fcf-protection={1}, {2} bytes")
  @CsvSource({
    "-O0, full, 5, ''", "-O0, none, 5, ''", "-O2, full, 5, ''", "-O2, none, 5, add_one",
    "-O0, full, 14, ''", "-O0, none, 14, ''", "-O2, full, 14, add_one", "-O2, none, 14, add_one"
  })
  void gcc_prologues_relocate_to_the_same_instructions(String opt, String cet, int minBytes,
      String tooShort) throws Exception {
    Relocator relocator = new Relocator(Decoder.shared());
    for (Objdump.Function f : compile(opt, cet).values()) {
      if (!FUNCTIONS.contains(f.name())) continue;
      RelocationCheck check = relocator.canRelocate(f.code(), f.address(), minBytes);
      if (f.name().equals(tooShort)) {
        assertTrue(check.refusal().startsWith("function too short: `ret`"), check.refusal());
        continue;
      }
      assertTrue(check.isOk(), f.name() + ": " + check.refusal());
      assertEquals("full".equals(cet), check.instructions().getFirst().isEndbr64(), f.name());
      long trampoline = f.address() + 0x10000;
      X86Writer out = new X86Writer(trampoline);
      relocator.relocate(f.code(), f.address(), minBytes, out);
      Equivalence.assertSameInstructions(check, f.address(), out.bytes(), trampoline);
      assertTrue(out.offset() <= check.maxRelocatedSize());
    }
  }

  /** -O2 without CET: sum starts {@code test esi,esi; jle} and the jle moves as jle rel32. */
  @ParameterizedTest
  @CsvSource({"-O2, none"})
  void an_early_conditional_branch_is_widened(String opt, String cet) throws Exception {
    Objdump.Function sum = compile(opt, cet).get("sum");
    X86Writer out = new X86Writer(sum.address() + 0x10000);
    new Relocator(Decoder.shared()).relocate(sum.code(), sum.address(), 5, out);
    List<Instruction> moved = Decoder.shared().decodeAll(out.bytes(), out.basePc());
    assertEquals(List.of("test", "jle", "movsxd", "jmp"),
        moved.stream().map(Instruction::mnemonic).toList());
    assertEquals(6, moved.get(1).length(), "jle rel32");
  }
}
