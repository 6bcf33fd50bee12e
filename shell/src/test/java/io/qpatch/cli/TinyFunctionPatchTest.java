package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Functions shorter than the 5-byte entry jump, through the CLI: {@code next} ({@code lea;
 * ret}, 4 bytes), {@code zero} ({@code xor; ret}, 3) and {@code nothing} ({@code ret}, 1),
 * each followed by gcc's alignment nops (-O2 and up align functions to 16 bytes; -O1 and -Os
 * pack them, and such a function is refused like {@code tight}, an assembly {@code ret}
 * followed at once by {@code after}). With padding they are replaced ({@code apply}) and hooked ({@code
 * -l}, {@code -a}; the hook calls the original's whole code, relocated), and {@code -r}
 * gives every byte back; without padding the function is refused by name.
 */
class TinyFunctionPatchTest {
  static final String TARGET = """
      #include <stdio.h>
      #include <unistd.h>
      int counter;
      __attribute__((noipa)) void nothing(void) {}
      __attribute__((noipa)) int next(int x) { return x + 1; }
      __attribute__((noipa)) int zero(void) { return 0; }
      __asm__(".text\\n.globl tight\\n.type tight,@function\\ntight: ret\\n.size tight, 1\\n"
              ".globl after\\n.type after,@function\\nafter: xor %eax,%eax\\n ret\\n.size after, 3\\n");
      void tight(void);
      __attribute__((noipa)) void loop(void) {
        for (;;) {
          nothing();
          tight();
          printf("next=%d zero=%d counter=%d\\n", next(1), zero(), counter);
          usleep(20000);
        }
      }
      int main(void) {
        setvbuf(stdout, 0, _IOLBF, 0);
        loop();
      }
      """;

  static final String REPLACE = """
      extern int counter;
      int next(int x) { return x + 100; }
      void nothing(void) { counter++; }
      """;

  static final String HOOK = """
      int zero(void);
      int _qpatch_hookfun_zero(void) { return zero() + 7; }
      """;

  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"-O1 -falign-functions=16", "-O2", "-O3"})
  void functions_shorter_than_the_jump_are_replaced_and_hooked_in_their_padding_and_given_back(String flags) {
    Path exe = Fixtures.c("tiny-functions", TARGET, flags.split(" "));
    try (LiveProcess p = LiveProcess.start(tmp.resolve("out"), exe.toString())) {
      p.awaitOutput(o -> o.contains("next=2 zero=0 counter=0\n"), Duration.ofSeconds(10));
      String pid = "" + p.pid();
      byte[] before = entries(pid);
      Path replace = Fixtures.object("tiny-replace", REPLACE, "-O2");
      run(0, "apply", "-o", replace.toString(), "-p", pid);
      String patched = awaitAfter(p, "next=101 zero=0 counter=");
      assertTrue(patched.matches("(?s).*next=101 zero=0 counter=[1-9].*"), "nothing() counts:\n" + patched);
      Path hook = Fixtures.object("tiny-hook", HOOK, "-O2");
      run(0, "-o", hook.toString(), "-p", pid, "-l");
      run(0, "-o", hook.toString(), "-p", pid, "-a");
      awaitAfter(p, "next=101 zero=7 counter=");
      run(0, "-o", hook.toString(), "-p", pid, "-r");
      run(0, "-o", replace.toString(), "-p", pid, "-r");
      String line = awaitLine(p, "next=2 zero=0 counter=");
      assertArrayEquals(before, entries(pid), "every byte of the functions and their padding given back");
      String still = awaitAfter(p, "\n" + line);  // nothing() counts no more
      assertTrue(still.lines().filter(l -> l.startsWith("next=2")).allMatch(l -> (l + "\n").equals(line)), still);

      Path tight = Fixtures.object("tiny-tight", "void tight(void) {}\n", "-O2");
      CliRun refused = CliRun.of(Commands::forThisBuild, "qpatch", "apply", "-o", tight.toString(), "-p", pid);
      assertEquals(1, refused.exit(), refused.out());
      assertTrue(refused.err().startsWith("qpatch: cannot replace tight in tiny-functions: it is 1 byte long,"
          + " and what follows it is not padding"), refused.err());
      awaitAfter(p, line);
      assertTrue(p.isAlive(), p.output());
    }
  }

  /** 16 bytes at each of next, zero and nothing: the function and its padding. */
  private static byte[] entries(String pid) {
    CliRun sym = CliRun.of(Commands::forThisBuild, "qpatch", "sym", "-p", pid, "next", "zero", "nothing");
    assertEquals(0, sym.exit(), sym.err());
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (java.io.RandomAccessFile mem = new java.io.RandomAccessFile("/proc/" + pid + "/mem", "r")) {
      for (String l : sym.out().lines().toList()) {
        byte[] b = new byte[16];
        mem.seek(Long.parseUnsignedLong(l.split(" ")[1].substring(2), 16));
        mem.readFully(b);
        out.write(b);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static void run(int exit, String... args) {
    String[] argv = new String[args.length + 1];
    argv[0] = "qpatch";
    System.arraycopy(args, 0, argv, 1, args.length);
    CliRun r = CliRun.of(Commands::forThisBuild, argv);
    assertEquals(exit, r.exit(), String.join(" ", args) + ": " + r.err());
  }

  /** The first whole line after now that starts with {@code prefix}, its newline included. */
  private static String awaitLine(LiveProcess p, String prefix) {
    int before = p.output().length();
    java.util.regex.Pattern line = java.util.regex.Pattern.compile("(?m)^" + prefix + ".*\n");
    String out = p.awaitOutput(o -> line.matcher(o.substring(before)).find(), Duration.ofSeconds(10));
    java.util.regex.Matcher m = line.matcher(out.substring(before));
    m.find();
    return m.group();
  }

  /** The output after now, once it holds {@code text}. */
  private static String awaitAfter(LiveProcess p, String text) {
    int before = p.output().length();
    return p.awaitOutput(o -> o.substring(before).contains(text), Duration.ofSeconds(10)).substring(before);
  }
}
