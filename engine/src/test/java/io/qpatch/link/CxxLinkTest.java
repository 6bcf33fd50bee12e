package io.qpatch.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.elf.ElfFile;
import io.qpatch.patch.Patcher;
import io.qpatch.proc.Target;
import io.qpatch.symbols.ProcessSymbols;
import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * C++ objects: libstdc++ calls, vtables and typeinfo, inline functions and templates the
 * target has (their COMDAT groups dropped) or lacks (kept), static constructors and
 * destructors.
 */
class CxxLinkTest {
  static final String SHAPES = """
      struct Shape { virtual ~Shape() {} virtual int area() const { return 1; } };
      struct Square : Shape {
        int s;
        explicit Square(int s) : s(s) {}
        int area() const override { return s * s; }
      };
      template <typename T> T twice(T v) { return v + v; }
      inline int inline_helper(int x) { return x + 100; }
      """;

  static final String PROGRAM = """
      #include <iostream>
      #include <string>
      #include <unistd.h>
      """ + SHAPES + """
      std::string greet(const std::string &who) { return "hello " + who; }
      int main() {
        Square sq(3);
        Shape *volatile p = &sq;
        std::cout << greet("world") << " " << p->area() << " " << twice(21) << " "
                  << inline_helper(1) << std::endl;
        for (long tick = 0;; tick++) {
          try {
            if (tick % 20 == 0) throw std::string("tick");
          } catch (const std::string &) {
          }
          usleep(10000);
        }
      }
      """;

  static final String PATCH = """
      #include <iostream>
      #include <stdexcept>
      #include <string>
      """ + SHAPES + """
      extern "C" int cxx_throw(int x) {
        try {
          if (x > 0) throw std::runtime_error("boom " + std::to_string(x));
          return 0;
        } catch (const std::exception &e) {
          std::cout << "caught " << e.what() << std::endl;
          return 7;
        }
      }
      template <typename T> T thrice(T v) { return v + v + v; }
      struct Counter { int n; Counter() : n(41) { n++; } ~Counter() { std::cout << "bye " << n << std::endl; } };
      static Counter counter;
      static std::string label = "patched";
      extern std::string greet(const std::string &who);
      struct Circle : Shape { int r; explicit Circle(int r) : r(r) {} int area() const override { return 3 * r * r; } };
      extern "C" int cxx_entry(int x) {
        Square sq(x);
        Circle c(x);
        Shape *shapes[] = {&sq, &c};
        std::cout << label << " " << shapes[0]->area() << " " << shapes[1]->area() << " "
                  << twice(x) << " " << thrice(x) << " " << inline_helper(x) << " "
                  << counter.n << " " << greet(label) << std::endl;
        return shapes[0]->area();
      }
      // run by qpatch once loaded, after the static constructors (-l)
      extern "C" void _qpatch_init(void) { cxx_entry(4); cxx_throw(3); }
      """;

  @TempDir Path tmp;

  @Test
  void cxxObjectLinksAgainstTheTargetsComdatsAndKeepsWhatItLacks() {
    Path exe = Fixtures.cxx("cxx-target", PROGRAM, "-O0");
    Path o = LinkFixtures.cxxObject("cxx-patch", PATCH, "-O0");
    try (LiveProcess p = LiveProcess.start(tmp.resolve("out.txt"), exe.toString());
        Target t = Target.attach(p.pid()); ElfFile elf = ElfFile.open(o)) {
      p.awaitOutput(s -> s.contains("hello world 9 42 101\n"), Duration.ofSeconds(10));
      try (Target.Stopped stopped = t.stop(); ProcessSymbols symbols = ProcessSymbols.of(p.pid())) {
        LinkPlan plan = LinkFixtures.load(t, elf, LinkOptions.named("cxx"), symbols.lookup("main").address());
        assertTrue(plan.droppedGroups().contains("_Z5twiceIiET_S0_"), plan.droppedGroups().toString());
        assertTrue(plan.droppedGroups().contains("_Z13inline_helperi"));
        assertTrue(plan.droppedGroups().contains("_ZTV6Square"), "vtable the target has");
        assertEquals(symbols.lookup("_ZTV6Square").address(), plan.externals().get("_ZTV6Square").address());
        assertTrue(plan.symbols().containsKey("_Z6thriceIiET_S0_"), "template the target lacks");
        assertTrue(plan.symbols().containsKey("_ZTV6Circle"), "vtable the target lacks");
        assertNotEquals(0, plan.dsoHandle());
        assertEquals(1, plan.initArray().size());
        LinkFixtures.unload(t, plan);
      }
    }
  }

  /**
   * Loaded as a patch ({@code -l}): the static constructors run, then {@code _qpatch_init},
   * which calls into the object (vtables, templates, the target's greet, an exception thrown
   * and caught in it); rollback runs the destructors, and the target keeps throwing and
   * catching its own exceptions throughout.
   */
  @Test
  void cxxPatchRunsWithConstructorsExceptionsAndDestructors() {
    Path exe = Fixtures.cxx("cxx-target", PROGRAM, "-O0");
    Path o = LinkFixtures.cxxObject("cxx-patch", PATCH, "-O0");
    try (LiveProcess p = LiveProcess.start(tmp.resolve("out.txt"), exe.toString());
        Target t = Target.attach(p.pid())) {
      p.awaitOutput(s -> s.contains("hello world 9 42 101\n"), Duration.ofSeconds(10));
      Patcher patcher = new Patcher(t);
      patcher.load(o);
      p.awaitOutput(s -> s.contains(RAN_4), Duration.ofSeconds(10));
      LiveProcess.sleep(300);  // the target throws and catches its own exceptions meanwhile
      patcher.rollback(o);
      p.awaitOutput(s -> s.contains("bye 42\n"), Duration.ofSeconds(10));
      LiveProcess.sleep(500);
      assertTrue(p.isAlive(), "the target keeps running, and unwinding, after unload");
    }
  }

  /** What {@code _qpatch_init} prints. */
  static final String RAN_4 = "patched 16 48 8 12 104 42 hello patched\ncaught boom 3\n";
}
