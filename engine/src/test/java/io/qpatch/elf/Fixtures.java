package io.qpatch.elf;

import io.qpatch.testing.Toolchain;
import java.nio.file.Path;

/** Small C and C++ sources the ELF tests compile with the real toolchain. */
final class Fixtures {
  private Fixtures() {}

  /** Locals, globals, COMMON, TLS, .rodata, .data.rel, calls into libc. */
  static final String PATCH_C = """
      #include <stdio.h>
      #include <unistd.h>
      static int counter;
      int common_var;
      __thread int tls_var = 3;
      const char *greeting = "hello";
      static int helper(int x) { return x * 2 + counter++; }
      int work(int n) {
        for (int i = 0; i < n; i++) counter += helper(i);
        printf("%d %s\\n", counter, greeting);
        sleep(0);
        return tls_var + counter + common_var;
      }
      """;

  static final String MAIN_C = """
      int work(int);
      int main(void) { return work(3) & 1; }
      """;

  /**
   * Inline functions and template instances: each one emitted out of line lands in its own
   * COMDAT group; noinline keeps them out of line at -O2 too.
   */
  static final String GROUPS_CPP = """
      #include <vector>
      template <typename T> struct Box {
        T v;
        __attribute__((noinline)) T get() const { return v; }
      };
      __attribute__((noinline)) inline int twice(int x) { return 2 * x; }
      int use(int n) {
        Box<int> b{n};
        std::vector<int> v(3, n);
        return b.get() + twice(v[1]);
      }
      """;

  static Path object(Path dir, String name, String... flags) {
    String[] all = new String[flags.length + 1];
    all[0] = "-c";
    System.arraycopy(flags, 0, all, 1, flags.length);
    return Toolchain.compile(dir, name + ".c", PATCH_C, name + ".o", all);
  }

  /** PATCH_C + MAIN_C linked; {@code pie} false gives a non-PIE ET_EXEC. */
  static Path executable(Path dir, String name, boolean pie) {
    Toolchain.compile(dir, name + "_main.c", MAIN_C, name + "_main.o", "-c",
        pie ? "-fPIE" : "-fno-pie");
    Toolchain.compile(dir, name + "_work.c", PATCH_C, name + "_work.o", "-c", "-O1",
        pie ? "-fPIE" : "-fno-pie");
    Toolchain.run(dir, "gcc", pie ? "-pie" : "-no-pie", "-Wl,--build-id", name + "_main.o",
        name + "_work.o", "-o", name);
    return dir.resolve(name);
  }
}
