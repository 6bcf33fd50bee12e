package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Predicate;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * C++ exceptions across a live patch, through the CLI ({@code qpatch apply}, or {@code -l}
 * then {@code -a}; {@code -r}):
 * thrown and caught inside the patch; thrown by the patch and caught by the target's own
 * handler (unwinding through the patch's frames); thrown by the original through a hook
 * and caught by the hook's caller. Each with the patch built at -O0 to -O3 and -fPIC.
 * The unwinder finds the patch's frames only if its .eh_frame was registered.
 */
class CxxExceptionPatchTest {
  static final String TARGET = """
      #include <cstdio>
      #include <stdexcept>
      #include <unistd.h>
      __attribute__((noipa)) int compute(int x) {
        if (x < 0) throw std::invalid_argument("negative");
        return x * 2;
      }
      __attribute__((noipa)) int checked(int x) {
        try {
          return compute(x);
        } catch (const std::exception &e) {
          std::printf("caught %s\\n", e.what());
          return -1;
        }
      }
      int main() {
        setvbuf(stdout, 0, _IOLBF, 0);
        for (int i = 0;; i++) {
          std::printf("r=%d\\n", checked(i % 3));
          usleep(20000);
        }
      }
      """;

  static final String INNER = """
      #include <stdexcept>
      int compute(int x) {
        try {
          if (x >= 0) throw std::runtime_error("inner");
        } catch (const std::exception &) {
          return -1000 - x;
        }
        return x;
      }
      """;

  static final String OUTER = """
      #include <stdexcept>
      int compute(int x) {
        if (x >= 0) throw std::runtime_error("from the patch");
        return x;
      }
      """;

  static final String HOOK = """
      int compute(int x);
      extern "C" int _qpatch_hookfun__Z7computei(int x) {
        return compute(-1 - x) + 1; // the original throws for a negative argument
      }
      """;

  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"-O0", "-O1", "-O2", "-O3", "-O2 -fPIC"})
  void exceptions_thrown_inside_through_and_around_a_patch_are_caught_where_the_code_says(String flags) {
    Path exe = Fixtures.cxx("cxx-exceptions", TARGET, "-O2");
    try (LiveProcess p = LiveProcess.start(tmp.resolve("out"), exe.toString())) {
      p.awaitOutput(o -> o.contains("r=4\n"), Duration.ofSeconds(10));
      check(p, "inner", INNER, flags, o -> o.contains("r=-1000\n") && o.contains("r=-1002\n"));
      check(p, "outer", OUTER, flags, o -> o.contains("caught from the patch\nr=-1\n"));
      check(p, "hook", HOOK, flags, o -> o.contains("caught negative\nr=-1\n")); // by -l, then -a
      int before = p.output().length();
      p.awaitOutput(o -> o.substring(before).contains("r=2\nr=4\n"), Duration.ofSeconds(10));
      assertTrue(p.isAlive(), "the target runs on, unpatched:\n" + p.output());
    }
  }

  /** Applies the patch, waits for what it must make the target print, rolls it back. */
  private void check(LiveProcess p, String name, String source, String flags, Predicate<String> expected) {
    Path o = Fixtures.cxxObject("exc-" + name, source, flags.split(" "));
    int before = p.output().length();
    String pid = "" + p.pid();
    if (name.equals("hook")) {
      CliRun load = CliRun.of(Commands::forThisBuild, "qpatch", "-o", o.toString(), "-p", pid, "-l");
      assertEquals(0, load.exit(), load.err());
      CliRun activate = CliRun.of(Commands::forThisBuild, "qpatch", "-o", o.toString(), "-p", pid, "-a");
      assertEquals(0, activate.exit(), activate.err());
    } else {
      CliRun apply = CliRun.of(Commands::forThisBuild, "qpatch", "apply", "-o", o.toString(), "-p", pid);
      assertEquals(0, apply.exit(), apply.err());
    }
    p.awaitOutput(out -> expected.test(out.substring(before)), Duration.ofSeconds(10));
    CliRun rollback = CliRun.of(Commands::forThisBuild, "qpatch", "-o", o.toString(), "-p", "" + p.pid(), "-r");
    assertEquals(0, rollback.exit(), rollback.err());
    assertTrue(p.isAlive(), name + " " + flags + ":\n" + p.output());
  }
}
