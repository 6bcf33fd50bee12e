package io.qpatch.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.testing.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CTraceTest {
  static final String ADD6 = """
      #include <stdio.h>
      __attribute__((noinline)) long add6(long a, long b, long c, long d, long e, long f) {
        return a + b + c + d + e + f;
      }
      int main(void) {
        long s = 0;
        for (int i = 0; i < 3; i++) s += add6(1, 2, 3, 4, 5, 6 + i);
        printf("%ld\\n", s);
        return 7;
      }
      """;

  static TraceConfig config(CollectingSink sink, boolean returns, String backend) {
    Selection sel = new Selection(Optional.empty(), Optional.empty(), returns, true);
    return new TraceConfig(sel, Optional.of(backend), false, List.of(sink),
        new PrintStream(new ByteArrayOutputStream()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"ptrace", "uprobe", "inproc"})
  void launched_c_program_shows_arguments_in_sysv_order_and_passes_its_exit_code(String backend) {
    Path prog = Fixtures.c("add6", ADD6, "-O1");
    CollectingSink sink = new CollectingSink();
    TraceSession session = TraceSession.launch(List.of(prog.toString()), config(sink, true, backend));
    int code = session.run();
    assertEquals(7, code);
    assertEquals(backend, sink.report.backend());
    List<TraceEvent> calls = sink.calls("add6");
    assertEquals(3, calls.size(), sink.text());
    assertTrue(Pattern.compile("tid\\[\\d{8}\\]: \\[0x[0-9a-f]+\\] add6 <-\\( 0x1, 0x2, 0x3, 0x4, 0x5, 0x8, \\.\\.\\. \\)")
        .matcher(sink.text()).find(), sink.text());
    List<TraceEvent> rets = sink.returns("add6");
    assertEquals(3, rets.size());
    assertEquals(21, rets.get(0).values()[0]);
    assertTrue(rets.get(0).durationNanos() >= 0);
    assertEquals(1, sink.calls("main").size());
  }

  static final String SHAPES = """
      #include <cstdio>
      namespace geo {
      struct Box {
        long w;
        __attribute__((noinline)) long area(long h) const { return w * h; }
      };
      template <typename T> __attribute__((noinline)) T twice(T v) { return v + v; }
      }
      __attribute__((noinline)) long scale(long a, long b) { return a * b; }
      __attribute__((noinline)) double scale(double a) { return a * 2; }
      int main() {
        geo::Box b{3};
        long r = b.area(4) + geo::twice<long>(5) + scale(6, 7) + (long) scale(1.5);
        std::printf("%ld\\n", r);
        return 0;
      }
      """;

  @ParameterizedTest
  @ValueSource(strings = {"ptrace", "uprobe", "inproc"})
  void cxx_names_are_demangled_with_this_as_the_first_argument(String backend) {
    Path prog = Fixtures.cxx("shapes", SHAPES, "-O1");
    CollectingSink sink = new CollectingSink();
    Selection sel = new Selection(Optional.of(Pattern.compile("^(geo::|long geo::|scale\\()")), Optional.empty(), false, true);
    TraceSession session = TraceSession.launch(List.of(prog.toString()), new TraceConfig(sel,
        Optional.of(backend), false, List.of(sink), new PrintStream(new ByteArrayOutputStream())));
    assertEquals(0, session.run());
    assertEquals(6, sink.calls("scale(long, long)").get(0).values()[0]);
    assertEquals(7, sink.calls("scale(long, long)").get(0).values()[1]);
    assertEquals(1, sink.calls("scale(double)").size());
    assertEquals(5, sink.calls("long geo::twice<long>(long)").get(0).values()[0]);
    TraceEvent area = sink.calls("geo::Box::area(long) const").get(0);
    assertEquals(4, area.values()[1], "the argument after this");
  }

  @Test
  void dash_c_keeps_mangled_names() {
    Path prog = Fixtures.cxx("shapes", SHAPES, "-O1");
    CollectingSink sink = new CollectingSink();
    Selection sel = new Selection(Optional.of(Pattern.compile("scale")), Optional.empty(), false, false);
    TraceSession session = TraceSession.launch(List.of(prog.toString()), new TraceConfig(sel,
        Optional.of("ptrace"), false, List.of(sink), new PrintStream(new ByteArrayOutputStream())));
    assertEquals(0, session.run());
    assertEquals(1, sink.calls("_Z5scalell").size(), sink.text());
    assertEquals(1, sink.calls("_Z5scaled").size(), sink.text());
  }

  static final String FORKER = """
      #include <stdio.h>
      #include <unistd.h>
      #include <sys/wait.h>
      __attribute__((noinline)) long work(long x) { return x * 2; }
      int main(void) {
        pid_t p = fork();
        if (p == 0) return work(21) == 42 ? 3 : 4;
        int st;
        waitpid(p, &st, 0);
        if (work(1) != 2) return 9;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
      }
      """;

  /**
   * ptrace: the forked copy gets the original bytes back (it would die of SIGTRAP in
   * work()). inproc: the copy keeps the trampolines, which record nothing there.
   */
  @ParameterizedTest
  @ValueSource(strings = {"ptrace", "inproc"})
  void a_forked_child_runs_its_probed_calls_untraced_and_unharmed(String backend) {
    Path prog = Fixtures.c("forker", FORKER, "-O1");
    CollectingSink sink = new CollectingSink();
    Selection sel = new Selection(Optional.of(Pattern.compile("^work$")), Optional.empty(), false, true);
    TraceSession session = TraceSession.launch(List.of(prog.toString()), new TraceConfig(sel,
        Optional.of(backend), false, List.of(sink), new PrintStream(new ByteArrayOutputStream())));
    assertEquals(3, session.run(), "the child's exit status, passed on by the parent");
    assertEquals(1, sink.calls("work").size(), "only the parent's call");
  }

  static final String COUNTDOWN = """
      __attribute__((noinline)) long step(long i) { __asm__ volatile(""); return i - 1; }
      int main(void) {
        long i = 500;
        while (i > 0) i = step(i);
        return 0;
      }
      """;

  /**
   * The ptrace backend hands a hit to the sinks only after its thread is let go: every
   * hit still arrives, in order, with each return after its call, up to the last one
   * before the program exits.
   */
  @Test
  void ptrace_hands_over_every_hit_in_order_up_to_the_last_before_exit() {
    Path prog = Fixtures.c("countdown", COUNTDOWN, "-O2");
    CollectingSink sink = new CollectingSink();
    assertEquals(0, TraceSession.launch(List.of(prog.toString()), config(sink, true, "ptrace")).run());
    List<TraceEvent> steps = sink.events.stream().filter(e -> e.function().name().equals("step")).toList();
    assertEquals(1000, steps.size(), sink.text());
    for (int k = 0; k < 500; k++) {
      TraceEvent call = steps.get(2 * k);
      TraceEvent ret = steps.get(2 * k + 1);
      assertTrue(call.isCall() && !ret.isCall(), "call then return at " + k);
      assertEquals(500 - k, call.values()[0]);
      assertEquals(499 - k, ret.values()[0]);
    }
  }

  static final String DECODE = """
      #include <stdio.h>
      #include <string.h>
      struct pt { long x, y; };
      struct tag { short kind; int n; };
      __attribute__((noinline)) long add3(long a, long b, long c) { return a + b + c; }
      __attribute__((noinline)) size_t greet(const char *name, int times) { return strlen(name) * times; }
      __attribute__((noinline)) long area(struct pt p, struct tag t) { return p.x * p.y + t.n; }
      __attribute__((noinline)) struct pt mk(long x) { struct pt p = {x, x + 1}; return p; }
      __attribute__((noinline)) long seven(long a, long b, long c, long d, long e, long f, long g) { return a + g; }
      __attribute__((noinline)) double scale(double v, float f) { return v * f; }
      int main(void) {
        struct pt p = {3, 4};
        struct tag t = {-2, 7};
        printf("%ld %zu %ld %ld %ld %g\\n", add3(1, 2, 3), greet("world", 2), area(p, t), mk(5).y,
               seven(1, 2, 3, 4, 5, 6, 7), scale(2.5, 2.0f));
        return 0;
      }
      """;

  private static final List<String> DECODED = List.of(
      "add3(a=1, b=2, c=3)", "add3 -> (ret=6)",
      "greet(name=\"world\", times=2)", "greet -> (ret=10)",
      "area(p={x:3 y:4}, t={kind:-2 n:7})", "area -> (ret=19)",
      "mk(x=5)", "mk -> (ret={x:5 y:6})",
      "seven(a=1, b=2, c=3, d=4, e=5, f=6, g=7)", "seven -> (ret=8)");

  /**
   * C parameters and results from DWARF by the SysV psABI, the same from every backend.
   */
  @ParameterizedTest
  @ValueSource(strings = {"ptrace", "uprobe", "inproc"})
  void c_arguments_and_results_are_decoded_from_dwarf(String backend) {
    assertEquals(sorted(DECODED), decodedLines(backend, "^(add3|greet|area|mk|seven)$", true));
  }

  static final String UNWOUND = """
      #include <setjmp.h>
      static jmp_buf jb;
      __attribute__((noinline)) void deep(int x) { if (x) longjmp(jb, 1); }
      __attribute__((noinline)) void middle(int x) { deep(x); __asm__ volatile(""); }
      __attribute__((noinline)) int top(int x) {
        if (setjmp(jb) == 0) { middle(x); return 0; }
        return 1;
      }
      int main(void) { return top(1) == 1 && top(0) == 0 ? 0 : 1; }
      """;

  /**
   * Frames a longjmp unwound (deep, middle of the first top) are closed and marked when
   * top returns, innermost first, never dropped; the second top's frames return as usual.
   * The same lines from every backend.
   */
  @ParameterizedTest
  @ValueSource(strings = {"ptrace", "uprobe", "inproc"})
  void frames_a_longjmp_unwound_are_closed_and_marked(String backend) {
    Path prog = Fixtures.c("unwound", UNWOUND, "-O1");
    CollectingSink sink = new CollectingSink();
    Selection sel = new Selection(Optional.of(Pattern.compile("^(top|middle|deep)$")), Optional.empty(), true, true);
    TraceConfig config = new TraceConfig(sel, Optional.of(backend), true, List.of(sink),
        new PrintStream(new ByteArrayOutputStream()));
    assertEquals(0, TraceSession.launch(List.of(prog.toString()), config).run(), sink.text());
    List<String> lines = new java.util.ArrayList<>();
    for (String l : sink.text().split("\n")) lines.add(l.replaceFirst("^tid\\[\\d+\\]: \\[0x[0-9a-f]+\\] ", "").replaceFirst(" [0-9.]+us$", ""));
    assertEquals(List.of("top(x=1)", "middle(x=1)", "deep(x=1)",
        "deep -> (no return seen)", "middle -> (no return seen)", "top -> (ret=1)",
        "top(x=0)", "middle(x=0)", "deep(x=0)", "deep -> ()", "middle -> ()", "top -> (ret=0)"), lines, sink.text());
  }

  static final String POINTERS = """
      #include <stdio.h>
      #include <stdlib.h>
      #include <string.h>
      #include <sys/mman.h>
      __attribute__((noinline)) long peek(const char *s, int use) { return use ? s[0] : 0; }
      int main(void) {
        char *two = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        munmap(two + 4096, 4096);
        char *edge = two + 4096 - 5;
        memcpy(edge, "edge", 5);
        char *heap = strdup("heap");
        long r = peek(NULL, 0);
        r += peek((const char *) 16, 0);
        r += peek(edge, 1);
        r += peek("literal", 1);
        r += peek(heap, 1);
        printf("%ld\\n", r);
        return r == 'e' + 'l' + 'h' ? 0 : 1;
      }
      """;

  /**
   * A string argument is captured at the call however bad its pointer: NULL, an unmapped
   * address (shown as ?), a string that ends just before an unmapped page; and good ones
   * wherever they are: a literal in the executable's image (inproc copies those
   * directly), one on the heap. The program lives, in every backend.
   */
  @ParameterizedTest
  @ValueSource(strings = {"ptrace", "uprobe", "inproc"})
  void bad_string_pointers_are_shown_without_harming_the_program(String backend) {
    Path prog = Fixtures.c("pointers", POINTERS, "-O1");
    CollectingSink sink = new CollectingSink();
    Selection sel = new Selection(Optional.of(Pattern.compile("^peek$")), Optional.empty(), false, true);
    TraceConfig config = new TraceConfig(sel, Optional.of(backend), true, List.of(sink),
        new PrintStream(new ByteArrayOutputStream()));
    assertEquals(0, TraceSession.launch(List.of(prog.toString()), config).run(), sink.text());
    List<String> lines = new java.util.ArrayList<>();
    for (String l : sink.text().split("\n")) if (l.contains("peek(")) lines.add(l.replaceFirst("^.*\\] peek", "peek"));
    assertEquals(List.of("peek(s=NULL, use=0)", "peek(s=?, use=0)", "peek(s=\"edge\", use=1)",
        "peek(s=\"literal\", use=1)", "peek(s=\"heap\", use=1)"), lines, sink.text());
  }

  @Test
  void c_floats_are_decoded_from_xmm_registers_by_ptrace_and_inproc() {
    assertEquals(sorted(List.of("scale(v=2.5, f=2)", "scale -> (ret=5)")), decodedLines("ptrace", "^scale$", true));
    assertEquals(sorted(List.of("scale(v=2.5, f=2)", "scale -> (ret=5)")), decodedLines("inproc", "^scale$", true));
  }

  static final String RETURNS = """
      #include <stdio.h>
      __attribute__((noinline)) long pick(long x) { if (x > 10) return x * 3; return 0; }
      __attribute__((noinline)) int classify(int x) { if (x > 0) { puts("pos"); return 1; } if (x < 0) return -1; return 0; }
      int main(void) {
        long s = 0;
        for (int i = 9; i < 12; i++) s += pick(i) + classify(i - 10);
        printf("%ld\\n", s);
        return 0;
      }
      """;

  /**
   * Returns of every shape gcc -O2 gives: a ret that is a branch target, its block one byte
   * with padding after the function (pick), several rets in one function, one right after
   * a short block (classify). Each backend pairs them; without --backend, inproc probes
   * them all and is the one chosen.
   */
  @ParameterizedTest
  @ValueSource(strings = {"ptrace", "uprobe", "inproc", "default"})
  void every_return_of_a_c_function_is_traced_with_its_result(String backend) {
    Path prog = Fixtures.c("returns", RETURNS, "-g", "-O2");
    CollectingSink sink = new CollectingSink();
    Selection sel = new Selection(Optional.of(Pattern.compile("^(pick|classify)$")), Optional.empty(), true, true);
    Optional<String> named = backend.equals("default") ? Optional.empty() : Optional.of(backend);
    TraceConfig config = new TraceConfig(sel, named, true, List.of(sink), new PrintStream(new ByteArrayOutputStream()));
    assertEquals(0, TraceSession.launch(List.of(prog.toString()), config).run(), sink.text());
    assertEquals(named.orElse("inproc"), sink.report.backend());
    List<String> lines = new java.util.ArrayList<>();
    for (String l : sink.text().split("\n")) {
      lines.add(l.replaceFirst("^tid\\[\\d+\\]: \\[0x[0-9a-f]+\\] ", "").replaceFirst(" [0-9.]+us$", ""));
    }
    assertEquals(List.of("pick(x=9)", "pick -> (ret=0)", "classify(x=-1)", "classify -> (ret=-1)",
        "pick(x=10)", "pick -> (ret=0)", "classify(x=0)", "classify -> (ret=0)",
        "pick(x=11)", "pick -> (ret=33)", "classify(x=1)", "classify -> (ret=1)"), lines, sink.text());
  }

  private static List<String> sorted(List<String> lines) {
    List<String> out = new java.util.ArrayList<>(lines);
    java.util.Collections.sort(out);
    return out;
  }

  private static List<String> decodedLines(String backend, String filter, boolean returns) {
    Path prog = Fixtures.c("decode", DECODE, "-g", "-O1");
    CollectingSink sink = new CollectingSink();
    Selection sel = new Selection(Optional.of(Pattern.compile(filter)), Optional.empty(), returns, true);
    TraceConfig config = new TraceConfig(sel, Optional.of(backend), true, List.of(sink),
        new PrintStream(new ByteArrayOutputStream()));
    assertEquals(0, TraceSession.launch(List.of(prog.toString()), config).run());
    List<String> out = new java.util.ArrayList<>();
    for (String l : sink.text().split("\n")) out.add(l.replaceFirst("^tid\\[\\d+\\]: \\[0x[0-9a-f]+\\] ", "").replaceFirst(" [0-9.]+us$", ""));
    return sorted(out);
  }

  static final String LIBCALLS = """
      #include <stdlib.h>
      int main(void) {
        long s = labs(-7) + labs(-8) + labs(-9);
        return s == 24 ? 0 : 1;
      }
      """;

  /**
   * A filter that names a library function probes it in libc, plain or qualified, once
   * the loader has mapped libc and before main, with the executable's own functions too:
   * every call is seen, in every backend.
   */
  @ParameterizedTest
  @ValueSource(strings = {"ptrace", "uprobe", "inproc"})
  void library_functions_named_by_the_filter_are_traced_from_before_main(String backend) {
    Path prog = Fixtures.c("libcalls", LIBCALLS, "-O1", "-fno-builtin");
    for (String filter : List.of("^labs$", "^libc\\.so\\.6!labs$", "^main$|^labs$")) {
      CollectingSink sink = new CollectingSink();
      Selection sel = new Selection(Optional.of(Pattern.compile(filter)), Optional.empty(), false, true);
      TraceConfig config = new TraceConfig(sel, Optional.of(backend), false, List.of(sink),
          new PrintStream(new ByteArrayOutputStream()));
      assertEquals(0, TraceSession.launch(List.of(prog.toString()), config).run());
      List<Long> args = sink.calls("libc.so.6!labs").stream().map(e -> e.values()[0]).toList();
      assertEquals(List.of(-7L, -8L, -9L), args, filter + "\n" + sink.text());
      // the executable and libc, far apart: inproc plants a region near each
      if (filter.contains("main")) assertEquals(1, sink.calls("main").size(), sink.text());
    }
  }

  @Test
  void a_filter_that_matches_nothing_says_so_and_names_close_functions() {
    Path prog = Fixtures.c("libcalls", LIBCALLS, "-O1", "-fno-builtin");
    Selection sel = new Selection(Optional.of(Pattern.compile("^labz$")), Optional.empty(), false, true);
    TraceConfig config = new TraceConfig(sel, Optional.empty(), false, List.of(new CollectingSink()),
        new PrintStream(new ByteArrayOutputStream()));
    io.qpatch.error.BadInputException e = org.junit.jupiter.api.Assertions.assertThrows(
        io.qpatch.error.BadInputException.class, () -> TraceSession.launch(List.of(prog.toString()), config));
    assertTrue(e.getMessage().matches("no function of pid \\d+ matches the filter '\\^labz\\$'; close: .*libc\\.so\\.6!labs.*"),
        e.getMessage());
  }

  static final String PLUGIN = """
      __attribute__((noinline)) long plug_add(long x) { return x + 100; }
      static volatile long first;
      __attribute__((constructor)) static void plug_init(void) { first = plug_add(0); }
      """;

  /** Calls into the library at once: from its constructor, and the moment dlopen returns. */
  static final String DLOPENER = """
      #include <dlfcn.h>
      #include <unistd.h>
      int main(int argc, char **argv) {
        usleep(100000);
        void *h = dlopen(argv[1], RTLD_NOW);
        if (!h) return 2;
        long (*add)(long) = (long (*)(long)) dlsym(h, "plug_add");
        long s = add(1) + add(2) + add(3);
        return s == 306 ? 0 : 1;
      }
      """;

  /**
   * A library loaded with dlopen after the trace began is probed before any of its code
   * runs: its constructor's call and the calls right after dlopen returns are all seen.
   */
  @ParameterizedTest
  @ValueSource(strings = {"ptrace", "uprobe", "inproc"})
  void a_library_loaded_later_is_probed_before_it_runs(String backend) {
    Path plugin = Fixtures.c("libplug.so", PLUGIN, "-O1", "-shared", "-fPIC");
    Path prog = Fixtures.c("dlopener", DLOPENER, "-O1");
    CollectingSink sink = new CollectingSink();
    ByteArrayOutputStream messages = new ByteArrayOutputStream();
    // usleep too: a filter that matches nothing when the trace begins is an error
    Selection sel = new Selection(Optional.of(Pattern.compile("^plug_add$|^usleep$")), Optional.empty(), false, true);
    TraceConfig config = new TraceConfig(sel, Optional.of(backend), false, List.of(sink), new PrintStream(messages, true));
    assertEquals(0, TraceSession.launch(List.of(prog.toString(), plugin.toString()), config).run());
    List<Long> args = sink.calls("libplug.so!plug_add").stream().map(e -> e.values()[0]).toList();
    assertEquals(List.of(0L, 1L, 2L, 3L), args, messages + sink.text());
    assertTrue(messages.toString().contains("libplug.so was loaded: 1 functions probed"), messages.toString());
  }
}
