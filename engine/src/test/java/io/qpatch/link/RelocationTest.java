package io.qpatch.link;

import static io.qpatch.elf.RelocationType.*;
import static io.qpatch.link.LinkFixtures.field32;
import static io.qpatch.link.LinkFixtures.field64;
import static io.qpatch.link.LinkFixtures.relocation;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.elf.ElfFile;
import io.qpatch.error.BadInputException;
import io.qpatch.link.LinkFixtures.Found;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Byte-level results of every relocation type, linked without a process against a fixed
 * symbol table. Each test first finds the relocation in the compiled object, so a compiler
 * that stops emitting the type fails the test instead of testing nothing.
 */
class RelocationTest {
  static final long BASE = 0x7f00_0000_0000L;
  static final long NEAR_FUNC = BASE - 0x10_0000;
  static final long FAR_FUNC = BASE + 0x1_0000_0000L;
  static final long NEAR_DATA = BASE - 0x20_0000;
  static final long FAR_DATA = BASE - 0x2_0000_0000L;
  static final long TLS_GET_ADDR = BASE - 0x30_0000;

  static final SymbolSource SOURCE = new SymbolSource() {
    final Map<String, Long> functions = Map.of("near_func", NEAR_FUNC, "far_func", FAR_FUNC,
        "__tls_get_addr", TLS_GET_ADDR);
    final Map<String, Long> data = Map.of("near_data", NEAR_DATA, "far_data", FAR_DATA);

    @Override
    public Optional<TargetSymbol> lookup(String name) {
      if (functions.containsKey(name)) return Optional.of(new TargetSymbol(functions.get(name), true, name));
      return Optional.ofNullable(data.get(name)).map(a -> new TargetSymbol(a, false, name));
    }

    @Override
    public Optional<ThreadLocalSymbol> lookupThreadLocal(String name) {
      return name.equals("tls_var")
          ? Optional.of(new ThreadLocalSymbol("main!tls_var", -0x40, 1, 8)) : Optional.empty();
    }

    @Override
    public String describe() {
      return "the test table";
    }
  };

  static final String USER = """
      extern int near_data;
      extern int near_func(int);
      extern int far_func(int);
      static int counter;
      int defined = 7;
      int (*pointer)(int) = far_func;
      int use(int x) { counter += x; return near_func(near_data) + far_func(counter) + defined; }
      """;

  static LinkPlan plan(Path object) {
    try (ElfFile elf = ElfFile.open(object)) {
      return ObjectLoader.plan(elf, SOURCE, LinkOptions.named("t"), BASE);
    }
  }

  static LinkPlan plan(Path object, long base) {
    try (ElfFile elf = ElfFile.open(object)) {
      return ObjectLoader.plan(elf, SOURCE, LinkOptions.named("t"), base);
    }
  }

  /** Run-time address of the place a relocation patches. */
  static long place(LinkPlan plan, Found r) {
    return plan.sections().get(r.section()) + r.offset();
  }

  /** The slot a GOT-relative rel32 (G + GOT + A - P) points at. */
  static long slotOf(LinkPlan plan, Found r) {
    long p = place(plan, r);
    return p + field32(plan, p) - r.addend();
  }

  @Test
  void pc32AndPlt32ToNearSymbolsAreDirect() {
    Path o = LinkFixtures.cObject("user", USER, "-O2");
    LinkPlan plan = plan(o);
    Found call = relocation(o, R_X86_64_PLT32, "near_func");
    assertEquals(NEAR_FUNC + call.addend() - place(plan, call), field32(plan, place(plan, call)));
    Found load = relocation(o, R_X86_64_PC32, "near_data");
    assertEquals(NEAR_DATA + load.addend() - place(plan, load), field32(plan, place(plan, load)));
  }

  @Test
  void pc32ToOwnBssIsSectionRelative() {
    Path o = LinkFixtures.cObject("user", USER, "-O2");
    LinkPlan plan = plan(o);
    Found r = relocation(o, R_X86_64_PC32, ".bss");
    long p = place(plan, r);
    assertEquals(plan.sections().get(".bss") + r.addend() - p, field32(plan, p));
    assertEquals(plan.sections().get(".bss"), plan.address("counter"));
  }

  @Test
  void plt32ToFarFunctionGoesThroughVeneerAndGotSlot() {
    Path o = LinkFixtures.cObject("user", USER, "-O2");
    LinkPlan plan = plan(o);
    Found call = relocation(o, R_X86_64_PLT32, "far_func");
    long p = place(plan, call);
    long veneer = p + field32(plan, p) - call.addend();
    byte[] code = plan.read(veneer, 8);
    assertEquals((byte) 0xff, code[0], "jmp *rel32(%rip)");
    assertEquals(0x25, code[1]);
    assertEquals((byte) 0xcc, code[6], "int3 padding");
    long slot = veneer + 6 + field32(plan, veneer + 2);
    assertEquals(FAR_FUNC, field64(plan, slot));
    Segment text = plan.segments().getFirst();
    assertTrue(text.contains(veneer), "veneer in the r-x segment");
  }

  @Test
  void absolute64InDataIsTheFunctionItselfNotItsVeneer() {
    Path o = LinkFixtures.cObject("user", USER, "-O2");
    LinkPlan plan = plan(o);
    assertEquals(FAR_FUNC, field64(plan, plan.address("pointer")));
  }

  @Test
  void rexGotpcrelxLoadsTheAddressFromAGotSlot() {
    Path o = LinkFixtures.cObject("user-pic", USER, "-O2", "-fPIC");
    LinkPlan plan = plan(o);
    Found r = relocation(o, R_X86_64_REX_GOTPCRELX, "near_data");
    assertEquals(NEAR_DATA, field64(plan, slotOf(plan, r)));
    Found own = relocation(o, R_X86_64_REX_GOTPCRELX, "defined");
    assertEquals(plan.address("defined"), field64(plan, slotOf(plan, own)));
  }

  @Test
  void gotpcrelxCallWithNoPltUsesTheSlot() {
    Path o = LinkFixtures.cObject("user-noplt", USER, "-O2", "-fPIC", "-fno-plt");
    LinkPlan plan = plan(o);
    Found r = relocation(o, R_X86_64_GOTPCRELX, "far_func");
    assertEquals(FAR_FUNC, field64(plan, slotOf(plan, r)));
    assertTrue(plan.segments().stream().anyMatch(s -> s.kind() == Segment.Kind.RODATA
        && s.contains(slotOf(plan, r))), "the GOT is read-only");
  }

  @Test
  void largeModelPicUsesGotRelative64BitFields() {
    Path o = LinkFixtures.cObject("user-large", USER, "-O2", "-fPIC", "-mcmodel=large");
    LinkPlan plan = plan(o);
    long got = plan.got();
    Found gotpc = relocation(o, R_X86_64_GOTPC64, "_GLOBAL_OFFSET_TABLE_");
    assertEquals(got + gotpc.addend() - place(plan, gotpc), field64(plan, place(plan, gotpc)));
    Found gotoff = relocation(o, R_X86_64_GOTOFF64, "counter");
    assertEquals(plan.address("counter") + gotoff.addend() - got,
        field64(plan, place(plan, gotoff)));
    Found got64 = relocation(o, R_X86_64_GOT64, "near_data");
    assertEquals(NEAR_DATA, field64(plan, got + field64(plan, place(plan, got64)) - got64.addend()));
    Found pltoff = relocation(o, R_X86_64_PLTOFF64, "far_func");
    assertEquals(FAR_FUNC + pltoff.addend() - got, field64(plan, place(plan, pltoff)));
  }

  @Test
  void absolute32And32SFitOnlyBelow4GiB() {
    String src = "static int table[4]; extern int near_func(int);\n"
        + "void set(int i, int v) { table[i] = v; }\n"
        + "int get(int i) { return table[i] + near_func(0); }\n"
        + "const char *name(void) { return \"hello\"; }\n";
    Path o = LinkFixtures.cObject("abs32", src, "-O2", "-fno-pie");
    long low = 0x4000_0000L;
    LinkPlan plan = plan(o, low);
    Found r32s = relocation(o, R_X86_64_32S, ".bss");
    assertEquals(plan.sections().get(".bss") + r32s.addend(), field32(plan, place(plan, r32s)));
    Found r32 = relocation(o, R_X86_64_32, ".rodata.str1.1");
    assertEquals(plan.sections().get(".rodata.str1.1") + r32.addend(),
        LinkFixtures.le(plan.read(place(plan, r32), 4), 4));
    BadInputException e = assertThrows(BadInputException.class, () -> plan(o));
    assertTrue(e.getMessage().contains("overflows") && e.getMessage().contains("-fPIC"),
        e.getMessage());
  }

  @Test
  void pc32ToDataBeyond2GiBIsRefusedNamingRelocationAndSymbol() {
    String src = "extern int far_data; int get(void) { return far_data; }\n";
    Path o = LinkFixtures.cObject("fardata", src, "-O2");
    relocation(o, R_X86_64_PC32, "far_data");
    BadInputException e = assertThrows(BadInputException.class, () -> plan(o));
    assertTrue(e.getMessage().matches(".*fardata\\.o: relocation R_X86_64_PC32 at \\.text"
        + "\\+0x[0-9a-f]+ \\(symbol far_data\\) overflows.*-fPIC"), e.getMessage());
    assertEquals(1, e.getMessage().lines().count());
  }

  @Test
  void leaOfFarDataBecomesALoadFromAGotSlot() {
    String src = "extern int far_data; int *address(void) { return &far_data; }\n";
    Path o = LinkFixtures.cObject("farlea", src, "-O2");
    Found r = relocation(o, R_X86_64_PC32, "far_data");
    byte[] before;
    try (ElfFile elf = ElfFile.open(o)) {
      before = elf.section(".text").orElseThrow().data().asSlice(r.offset() - 3, 3)
          .toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }
    assertArrayEquals(new byte[] {0x48, (byte) 0x8d, 0x05}, before, "lea far_data(%rip), %rax");
    LinkPlan plan = plan(o);
    long p = place(plan, r);
    assertArrayEquals(new byte[] {0x48, (byte) 0x8b, 0x05}, plan.read(p - 3, 3),
        "mov slot(%rip), %rax");
    assertEquals(FAR_DATA, field64(plan, p + 4 + field32(plan, p)));
  }

  @Test
  void leaOfNearDataStaysALea() {
    String src = "extern int near_data; int *address(void) { return &near_data; }\n";
    Path o = LinkFixtures.cObject("nearlea", src, "-O2");
    Found r = relocation(o, R_X86_64_PC32, "near_data");
    LinkPlan plan = plan(o);
    long p = place(plan, r);
    assertEquals((byte) 0x8d, plan.read(p - 2, 1)[0]);
    assertEquals(NEAR_DATA, p + 4 + field32(plan, p));
  }

  @Test
  void assemblerOnlyTypesPc64Gotpc32Gotpcrel64AndSize() {
    String src = """
        int defined[3];
        extern int near_data;
        asm(".section .data.asm,\\"aw\\"\\n"
            ".globl asm_table\\nasm_table:\\n"
            ".quad near_data - .\\n"
            ".quad near_data@GOTPCREL\\n"
            ".long defined@SIZE\\n"
            ".quad defined@SIZE + 1\\n"
            ".text\\n"
            ".globl got_address\\ngot_address:\\n"
            "leaq _GLOBAL_OFFSET_TABLE_(%rip), %rax\\nret\\n");
        """;
    Path o = LinkFixtures.cObject("asmtypes", src, "-O2");
    LinkPlan plan = plan(o);
    Found pc64 = relocation(o, R_X86_64_PC64, "near_data");
    long p = place(plan, pc64);
    assertEquals(NEAR_DATA + pc64.addend() - p, field64(plan, p));
    Found gotpcrel64 = relocation(o, R_X86_64_GOTPCREL64, "near_data");
    long p2 = place(plan, gotpcrel64);
    assertEquals(NEAR_DATA, field64(plan, p2 + field64(plan, p2) - gotpcrel64.addend()));
    assertEquals(12, field32(plan, place(plan, relocation(o, R_X86_64_SIZE32, "defined"))));
    assertEquals(13, field64(plan, place(plan, relocation(o, R_X86_64_SIZE64, "defined"))));
    Found gotpc32 = relocation(o, R_X86_64_GOTPC32, "_GLOBAL_OFFSET_TABLE_");
    long p3 = place(plan, gotpc32);
    assertEquals(plan.got() + gotpc32.addend() - p3, field32(plan, p3));
  }

  @Test
  void initialExecTlsPutsTheThreadPointerOffsetInAGotSlot() {
    String src = "extern __thread int tls_var; int get(void) { return tls_var; }\n";
    Path o = LinkFixtures.cObject("tls-ie", src, "-O2");
    LinkPlan plan = plan(o);
    Found r = relocation(o, R_X86_64_GOTTPOFF, "tls_var");
    assertEquals(-0x40, field64(plan, slotOf(plan, r)));
  }

  @Test
  void localExecTlsPutsTheOffsetInTheInstruction() {
    String src = "extern __thread int tls_var __attribute__((tls_model(\"local-exec\")));\n"
        + "int get(void) { return tls_var; }\n";
    Path o = LinkFixtures.cObject("tls-le", src, "-O2");
    LinkPlan plan = plan(o);
    Found r = relocation(o, R_X86_64_TPOFF32, "tls_var");
    assertEquals(-0x40 + r.addend(), field32(plan, place(plan, r)));
  }

  @Test
  void generalDynamicTlsGetsATlsIndexPairForTheExecutable() {
    String src = "extern __thread int tls_var; int get(void) { return tls_var; }\n";
    Path o = LinkFixtures.cObject("tls-gd", src, "-O2", "-fPIC");
    LinkPlan plan = plan(o);
    long slot = slotOf(plan, relocation(o, R_X86_64_TLSGD, "tls_var"));
    assertEquals(1, field64(plan, slot), "module id of the executable");
    assertEquals(8, field64(plan, slot + 8), "offset in its TLS block");
    Found call = relocation(o, R_X86_64_PLT32, "__tls_get_addr");
    assertEquals(TLS_GET_ADDR + call.addend() - place(plan, call), field32(plan, place(plan, call)));
  }

  @Test
  void tlsDescriptorsAreRefusedBeforeAnythingElse() {
    String src = "extern __thread int tls_var; int get(void) { return tls_var; }\n";
    Path o = LinkFixtures.cObject("tls-desc", src, "-O2", "-fPIC", "-mtls-dialect=gnu2");
    relocation(o, R_X86_64_GOTPC32_TLSDESC, "tls_var");
    BadInputException e = assertThrows(BadInputException.class, () -> plan(o));
    assertTrue(e.getMessage().matches(".*tls-desc\\.o: relocation R_X86_64_GOTPC32_TLSDESC at"
        + " \\.text\\+0x[0-9a-f]+ \\(symbol tls_var\\) is not supported: TLS descriptors.*"),
        e.getMessage());
  }

  @Test
  void threadLocalTheTargetLacksIsReported() {
    String src = "extern __thread int other_tls; int get(void) { return other_tls; }\n";
    Path o = LinkFixtures.cObject("tls-missing", src, "-O2", "-fPIC");
    relocation(o, R_X86_64_TLSGD, "other_tls");
    BadInputException e = assertThrows(BadInputException.class, () -> plan(o));
    assertTrue(e.getMessage().endsWith("tls-missing.o: thread-local 'other_tls' is not a __thread"
        + " variable of the executable of the test table (a patch reaches only the executable's"
        + " own thread-locals)"), e.getMessage());
  }

  @Test
  void objectDefiningThreadLocalsIsRefused() {
    String src = "static __thread int mine; int *get(void) { return &mine; }\n";
    Path o = LinkFixtures.cObject("tls-own", src, "-O2", "-fPIC");
    relocation(o, R_X86_64_TLSLD, "mine");
    BadInputException e = assertThrows(BadInputException.class, () -> plan(o));
    assertTrue(e.getMessage().endsWith("tls-own.o: section [5] .tbss holds thread-local"
        + " variables; a patch cannot add __thread variables to a running process (use the"
        + " program's own, declared extern)"), e.getMessage());
  }

  @Test
  void undefinedSymbolsAreAllNamedInOneLine() {
    String src = "extern int nosuch(void); extern int nodata; int get(void) { return nosuch() + nodata; }\n";
    Path o = LinkFixtures.cObject("undef", src, "-O2");
    BadInputException e = assertThrows(BadInputException.class, () -> plan(o));
    assertEquals(o + ": undefined symbols 'nosuch', 'nodata' not found in the test table",
        e.getMessage());
  }

  @Test
  void objectWithNothingToLoadIsRefused() {
    Path o = LinkFixtures.cObject("empty", "/* nothing */\n");
    BadInputException e = assertThrows(BadInputException.class, () -> plan(o));
    assertEquals(o + ": nothing to load (no code or data sections)", e.getMessage());
  }

  @Test
  void weakUndefinedSymbolNobodyDefinesIsZero() {
    String src = "extern int maybe(void) __attribute__((weak));\n"
        + "int (*get(void))(void) { return maybe; }\n";
    Path o = LinkFixtures.cObject("weak", src, "-O2", "-fno-pie");
    LinkPlan plan = plan(o, 0x4000_0000L);
    Found r = relocation(o, R_X86_64_32, "maybe");
    assertEquals(0, field32(plan, place(plan, r)));
  }

  @Test
  void overridesWinOverTheObjectAndTheTarget() {
    Path o = LinkFixtures.cObject("user", USER, "-O2");
    try (ElfFile elf = ElfFile.open(o)) {
      LinkPlan plan = ObjectLoader.plan(elf, SOURCE,
          LinkOptions.named("t").withOverride("near_func", BASE - 0x5000), BASE);
      Found call = relocation(o, R_X86_64_PLT32, "near_func");
      long p = place(plan, call);
      assertEquals(BASE - 0x5000 + call.addend() - p, field32(plan, p));
    }
  }

  @Test
  void segmentsArePageAlignedAndNeverWritableAndExecutable() {
    Path o = LinkFixtures.cObject("user", USER, "-O2");
    LinkPlan plan = plan(o);
    for (Segment s : plan.segments()) {
      assertEquals(0, s.address() % 4096, s.toString());
      assertEquals(0, s.size() % 4096, s.toString());
      assertTrue(!s.perms().startsWith("rwx"), s.toString());
    }
    assertArrayEquals(new String[] {"r-xs", "r--s", "rw-s"},
        plan.segments().stream().map(Segment::perms).toArray());
  }
}
