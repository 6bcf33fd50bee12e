package io.qpatch.dwarf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.Symbol;
import io.qpatch.testing.GoToolchains;
import io.qpatch.testing.GoToolchains.GoToolchain;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The DWARF reader on Go's linker output (DWARF 4, SHF_COMPRESSED zlib sections). */
class GoDwarfTest {
  static final String SOURCE = """
      package main

      import "fmt"

      type Celsius int
      type Pair struct {
      \tA int32
      \tB string
      }
      type Shape interface{ Area() float64 }

      //go:noinline
      func kinds(n Celsius, s string, b []byte, e error, m map[string]int, c chan int,
      \tf func(int) int, a [3]uint16, p Pair, pp *Pair, sh Shape, any interface{}, fl float32) bool {
      \treturn n > 0 && s != "" && len(b) > 0 && e == nil && m != nil && c != nil && f != nil &&
      \t\ta[0] == 0 && p.A == 0 && pp != nil && sh == nil && any != nil && fl > 0
      }

      func main() {
      \tfmt.Println(kinds(1, "s", []byte{1}, nil, map[string]int{}, make(chan int),
      \t\tfunc(i int) int { return i }, [3]uint16{}, Pair{}, &Pair{}, nil, 1, 1.5))
      }
      """;

  static List<GoToolchain> toolchains() {
    return GoToolchains.all();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void go_kinds_and_type_names_of_parameters(GoToolchain tc) {
    try (ElfFile elf = ElfFile.open(tc.build("godwarf", SOURCE))) {
      Dwarf d = Dwarf.of(elf).orElseThrow();
      DwarfFunction kinds = d.function("main.kinds").orElseThrow();
      Map<String, String> seen = new LinkedHashMap<>();
      for (DwarfParam p : kinds.inputs()) seen.put(p.name(), p.type().name() + ":" + goKind(p.type()));
      assertEquals(Map.ofEntries(
          Map.entry("n", "main.Celsius:INT"),
          Map.entry("s", "string:STRING"),
          Map.entry("b", "[]uint8:SLICE"),
          Map.entry("e", "error:INTERFACE"),
          Map.entry("m", "map[string]int:MAP"),
          Map.entry("c", "chan int:CHAN"),
          Map.entry("f", "func(int) int:FUNC"),
          Map.entry("a", "[3]uint16:ARRAY"),
          Map.entry("p", "main.Pair:STRUCT"),
          Map.entry("pp", "*main.Pair:POINTER"),
          Map.entry("sh", "main.Shape:INTERFACE"),
          Map.entry("any", "interface {}:INTERFACE"),
          Map.entry("fl", "float32:FLOAT32")), seen);
      assertEquals(List.of("~r0"), kinds.outputs().stream().map(DwarfParam::name).toList());
      DwarfType pair = d.struct("main.Pair").orElseThrow();
      assertEquals(List.of("A@0", "B@8"),
          pair.members().stream().map(m -> m.name() + "@" + m.offset()).toList());
      assertEquals(3, kinds.inputs().get(7).type().resolved().count());
      Symbol sym = elf.symtab().orElseThrow().named("main.kinds").getFirst();
      assertEquals(sym.value(), kinds.lowPc());
    }
  }

  /** The Go kind on the type or, for Go's typedefs without one, on what it names. */
  private static GoKind goKind(DwarfType t) {
    for (DwarfType x = t; ; x = x.target()) {
      if (x.goKind() != GoKind.INVALID || x.kind() != DwarfType.Kind.TYPEDEF) return x.goKind();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toolchains")
  void runtime_g_goid_is_found_quickly(GoToolchain tc) {
    try (ElfFile elf = ElfFile.open(tc.build("godwarf", SOURCE))) {
      assertTrue(elf.size() > 1_000_000, "a realistic binary: " + elf.size() + " bytes");
      long start = System.nanoTime();
      Dwarf d = Dwarf.of(elf).orElseThrow();
      long goid = d.memberOffset("runtime.g", "goid").orElseThrow();
      int functions = d.functions().size();
      for (DwarfFunction f : d.functions()) f.params();
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertTrue(goid == 152 || goid == 160, "goid at " + goid);
      assertTrue(functions > 1000, functions + " functions");
      assertTrue(millis < 1000, "index, runtime.g and every function's params took " + millis
          + " ms");
      assertTrue(d.producers().getFirst().startsWith("Go cmd/compile " + tc.version()),
          d.producers().toString());
    }
  }
}
