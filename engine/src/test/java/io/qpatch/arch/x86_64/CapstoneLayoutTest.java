package io.qpatch.arch.x86_64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.qpatch.arch.x86_64.CapstoneStructs.CsDetail;
import io.qpatch.arch.x86_64.CapstoneStructs.CsInsn;
import io.qpatch.arch.x86_64.CapstoneStructs.CsX86;
import io.qpatch.arch.x86_64.CapstoneStructs.CsX86Encoding;
import io.qpatch.arch.x86_64.CapstoneStructs.CsX86Op;
import io.qpatch.arch.x86_64.CapstoneStructs.X86OpMem;
import io.qpatch.error.RefusedException;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Our StructLayouts and enum values against Capstone 4.0.2's own header, via gcc. */
class CapstoneLayoutTest {
  private static final Map<String, GroupLayout> STRUCTS = new LinkedHashMap<>();

  static {
    STRUCTS.put("cs_insn", CsInsn.LAYOUT);
    STRUCTS.put("cs_detail", CsDetail.LAYOUT);
    STRUCTS.put("cs_x86", CsX86.LAYOUT);
    STRUCTS.put("cs_x86_op", CsX86Op.LAYOUT);
    STRUCTS.put("x86_op_mem", X86OpMem.LAYOUT);
    STRUCTS.put("cs_x86_encoding", CsX86Encoding.LAYOUT);
  }

  private static final Map<String, Integer> CONSTANTS = new LinkedHashMap<>();

  static {
    CONSTANTS.put("CS_ARCH_X86", Capstone.CS_ARCH_X86);
    CONSTANTS.put("CS_MODE_64", Capstone.CS_MODE_64);
    CONSTANTS.put("CS_OPT_DETAIL", Capstone.CS_OPT_DETAIL);
    CONSTANTS.put("CS_OPT_ON", Capstone.CS_OPT_ON);
    CONSTANTS.put("CS_ERR_OK", Capstone.CS_ERR_OK);
    CONSTANTS.put("CS_API_MAJOR", Capstone.API_MAJOR);
    CONSTANTS.put("CS_MNEMONIC_SIZE", CapstoneStructs.MNEMONIC_SIZE);
    CONSTANTS.put("CS_AC_READ", Operand.READ);
    CONSTANTS.put("CS_AC_WRITE", Operand.WRITE);
    for (var f : CapstoneIds.class.getDeclaredFields()) {
      try {
        CONSTANTS.put(f.getName(), f.getInt(null));
      } catch (IllegalAccessException e) {
        throw new AssertionError(e);
      }
    }
  }

  @Test
  void struct_sizes_offsets_and_enum_values_match_the_capstone_header(@TempDir Path dir)
      throws Exception {
    NativeTools.requireTool("gcc", "gcc");
    NativeTools.requireFile(Path.of("/usr/include/capstone/capstone.h"), "libcapstone-dev");
    Map<String, Long> expected = new LinkedHashMap<>();
    StringBuilder c = new StringBuilder("#include <stdio.h>\n#include <stddef.h>\n"
        + "#include <capstone/capstone.h>\nint main(void) {\n");
    STRUCTS.forEach((name, layout) -> {
      line(c, expected, "sizeof(" + name + ")", layout.byteSize());
      collectOffsets(layout, 0).forEach((field, off) ->
          line(c, expected, "offsetof(" + name + ", " + field + ")", off));
    });
    CONSTANTS.forEach((name, value) -> line(c, expected, name, value));
    c.append("  return 0;\n}\n");
    Files.writeString(dir.resolve("layout.c"), c);
    NativeTools.run(dir, "gcc", "-std=c11", "-o", "layout", "layout.c");
    Map<String, Long> actual = new LinkedHashMap<>();
    for (String l : NativeTools.run(dir, "./layout").split("\n")) {
      int eq = l.lastIndexOf('=');
      actual.put(l.substring(0, eq), Long.parseLong(l.substring(eq + 1)));
    }
    assertEquals(expected, actual);
  }

  private static void line(StringBuilder c, Map<String, Long> expected, String expr, long value) {
    c.append("  printf(\"%s=%ld\\n\", \"").append(expr).append("\", (long) (").append(expr)
        .append("));\n");
    expected.put(expr, value);
  }

  /** Every named member, looking through the unnamed groups that model C's anonymous unions. */
  private static Map<String, Long> collectOffsets(GroupLayout layout, long base) {
    Map<String, Long> out = new LinkedHashMap<>();
    long offset = 0;
    for (MemoryLayout m : layout.memberLayouts()) {
      long at = layout instanceof java.lang.foreign.UnionLayout ? 0 : offset;
      if (m.name().isPresent()) {
        out.put(m.name().get(), base + at);
      } else if (m instanceof GroupLayout g) {
        out.putAll(collectOffsets(g, base + at));
      }
      offset += m.byteSize();
    }
    return out;
  }

  @Test
  void a_missing_library_is_a_one_line_refusal_that_says_what_to_install() {
    RefusedException e = assertThrows(RefusedException.class,
        () -> Capstone.requireLibrary(Optional.empty()));
    assertEquals("libcapstone.so.4 not found: apt-get install libcapstone4", e.getMessage());
  }

  /**
   * The real thing: a JVM in a private mount namespace where libcapstone.so.4 is an empty
   * file, so dlopen fails as when the package is not installed.
   */
  @Test
  void opening_a_decoder_without_the_library_prints_the_install_hint(@TempDir Path dir)
      throws Exception {
    NativeTools.requireTool("unshare", "util-linux");
    NativeTools.requireRoot("hiding libcapstone.so.4 with a bind mount");
    Path lib = Path.of("/usr/lib/x86_64-linux-gnu/libcapstone.so.4");
    NativeTools.requireFile(lib, "libcapstone4");
    String java = ProcessHandle.current().info().command().orElseThrow();
    String script = "mount --bind /dev/null " + lib + " && exec \"$0\" \"$@\"";
    String out = NativeTools.run(dir, "unshare", "-m", "--propagation", "private", "sh", "-c",
        script, java, "--enable-native-access=ALL-UNNAMED",
        "-cp", System.getProperty("java.class.path"), OpenDecoderMain.class.getName());
    assertEquals("RefusedException: libcapstone.so.4 not found: apt-get install libcapstone4\n", out);
  }

  /** Run by the test above in a child JVM. */
  static final class OpenDecoderMain {
    public static void main(String[] args) {
      try (Decoder d = Decoder.open()) {
        System.out.println("opened " + d);
      } catch (RefusedException e) {
        System.out.println("RefusedException: " + e.getMessage());
      }
    }
  }
}
