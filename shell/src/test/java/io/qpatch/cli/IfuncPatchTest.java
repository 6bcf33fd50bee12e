package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * IFUNC symbols through the CLI: glibc's {@code strlen} and the program's own IFUNC {@code
 * pick}. {@code qpatch sym} shows the resolver and the implementation the process
 * selected; the implementation is what {@code -l}/{@code -a}, {@code apply} and {@code -r}
 * take over and give back. The program prints what its own calls resolve to ({@code &strlen}
 * binds through a GLOB_DAT slot, which ld.so fills with the resolver's choice; {@code &pick}
 * would be its PLT entry, so the program prints the function its resolver returns), and
 * the implementation qpatch names is checked against the one the process really calls.
 */
class IfuncPatchTest {
  static final String TARGET = """
      #include <stdio.h>
      #include <string.h>
      #include <unistd.h>
      static volatile int bias = 2;
      __attribute__((noipa)) static int pick_fast(int x) { return x + bias; }
      static int (*resolve_pick(void))(int) { return pick_fast; }
      int pick(int) __attribute__((ifunc("resolve_pick")));
      int main(void) {
        setvbuf(stdout, 0, _IOLBF, 0);
        size_t (*volatile sl)(const char *) = strlen;
        int (*volatile pk)(int) = pick_fast;
        printf("strlen=%p pick=%p\\n", (void *) sl, (void *) pk);
        char buf[32];
        for (int i = 0;; i++) {
          snprintf(buf, sizeof buf, "n%d", i % 10);
          printf("len=%zu pick=%d\\n", strlen(buf), pick(40));
          usleep(20000);
        }
      }
      """;

  static final String HOOK_STRLEN = """
      #include <stddef.h>
      size_t strlen(const char *s);
      size_t _qpatch_hookfun_strlen(const char *s) { return strlen(s) + 1000; }
      """;

  static final String REPLACE_PICK = "int pick(int x) { return x + 100; }\n";

  @TempDir Path tmp;

  @Test
  void sym_shows_resolver_and_selected_implementation_and_patches_take_over_the_implementation() {
    Path exe = Fixtures.c("ifunc-target", TARGET, "-O2", "-fno-builtin");
    try (LiveProcess p = LiveProcess.start(tmp.resolve("out"), exe.toString())) {
      String first = p.awaitOutput(o -> o.contains("len=2 pick=42\n"), Duration.ofSeconds(10));
      Matcher called = Pattern.compile("strlen=0x([0-9a-f]+) pick=0x([0-9a-f]+)").matcher(first);
      assertTrue(called.find(), first);
      String pid = "" + p.pid();

      CliRun sym = CliRun.of(Commands::forThisBuild, "qpatch", "sym", "-p", pid, "strlen", "pick");
      assertEquals(0, sym.exit(), sym.err());
      assertImplementation(sym.out(), "strlen", called.group(1), "libc.so.6");
      assertImplementation(sym.out(), "pick", called.group(2), "pick_fast");

      Path hook = Fixtures.object("ifunc-hook", HOOK_STRLEN, "-O2");
      run("-o", hook.toString(), "-p", pid, "-l");
      run("-o", hook.toString(), "-p", pid, "-a");
      awaitAfter(p, "len=1002 pick=42\n");
      run("-o", hook.toString(), "-p", pid, "-r");
      awaitAfter(p, "len=2 pick=42\n");

      Path replace = Fixtures.object("ifunc-replace", REPLACE_PICK, "-O2");
      run("apply", "-o", replace.toString(), "-p", pid);
      awaitAfter(p, "len=2 pick=140\n");
      run("-o", replace.toString(), "-p", pid, "-r");
      awaitAfter(p, "len=2 pick=42\n");
      assertTrue(p.isAlive(), p.output());
    }
  }

  /** The resolver line, then the implementation line at the address the process calls. */
  private static void assertImplementation(String out, String name, String calledHex, String described) {
    List<String> lines = out.lines().filter(l -> l.startsWith(name + " ")).toList();
    assertEquals(2, lines.size(), out);
    assertTrue(lines.get(0).endsWith(" ifunc-resolver"), out);
    String resolver = lines.get(0).split(" ")[1];
    String impl = lines.get(1).split(" ")[1];
    assertNotEquals(resolver, impl, out);
    assertEquals("0x" + calledHex, impl, "the implementation the process calls:\n" + out);
    assertTrue(lines.get(1).contains(" ifunc-implementation (" + described), out);
    assertTrue(lines.get(1).matches(".* [0-9]+ bytes\\)$"), "a size from a symbol or .eh_frame:\n" + out);
  }

  private static void run(String... args) {
    String[] argv = new String[args.length + 1];
    argv[0] = "qpatch";
    System.arraycopy(args, 0, argv, 1, args.length);
    CliRun r = CliRun.of(Commands::forThisBuild, argv);
    assertEquals(0, r.exit(), String.join(" ", args) + ": " + r.err());
  }

  private static void awaitAfter(LiveProcess p, String line) {
    int before = p.output().length();
    p.awaitOutput(o -> o.substring(before).contains(line), Duration.ofSeconds(10));
  }
}
