package io.qpatch.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.elf.ElfFile;
import io.qpatch.patch.Patcher;
import io.qpatch.error.BadInputException;
import io.qpatch.proc.Mapping;
import io.qpatch.proc.Target;
import io.qpatch.symbols.ProcessSymbols;
import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** IFUNCs, code written after load, placement near a library, constructor order. */
class LoaderFeaturesLiveTest {
  static final String IFUNC_PROGRAM = """
      #include <stdio.h>
      #include <unistd.h>
      static int never_impl(int x) { return x + 1000; }
      static void *pick_never(void) { return never_impl; }
      int never_called(int) __attribute__((ifunc("pick_never")));
      static int often_impl(int x) { return x + 2000; }
      static void *pick_often(void) { return often_impl; }
      int often_called(int) __attribute__((ifunc("pick_often")));
      int main(void) {
        printf("started %d\\n", often_called(1));
        fflush(stdout);
        for (;;) usleep(10000);
      }
      """;

  @TempDir Path tmp;

  private LiveProcess start(Path exe, String ready) {
    LiveProcess p = LiveProcess.start(tmp.resolve("out.txt"), exe.toString());
    p.awaitOutput(s -> s.contains(ready), Duration.ofSeconds(10));
    return p;
  }

  @Test
  void ifuncResolvedThroughTheProcessGotOrByCallingTheResolver() {
    Path exe = Fixtures.c("ifunc-target", IFUNC_PROGRAM, "-O2");
    Path o = LinkFixtures.cObject("ifunc-patch", """
        extern int never_called(int);
        extern int often_called(int);
        int call_never(int x) { return never_called(x); }
        int call_often(int x) { return often_called(x); }
        """, "-O2");
    try (LiveProcess p = start(exe, "started 2001"); Target t = Target.attach(p.pid());
        ElfFile elf = ElfFile.open(o); Target.Stopped stopped = t.stop();
        ProcessSymbols symbols = ProcessSymbols.of(p.pid())) {
      SymbolSource withoutCalls = new ProcessSymbolSource(symbols);
      long often = withoutCalls.lookup("often_called").orElseThrow().address();
      assertTrue(often != symbols.lookup("often_called").address(), "not the resolver");
      BadInputException e = assertThrows(BadInputException.class,
          () -> withoutCalls.lookup("never_called"));
      assertTrue(e.getMessage().contains("is an IFUNC"), e.getMessage());
      LinkPlan lo = LinkFixtures.load(t, elf, LinkOptions.named("ifunc"),
          symbols.lookup("main").address());
      assertEquals(1005, t.callFunction(lo.address("call_never"), 5));
      assertEquals(2005, t.callFunction(lo.address("call_often"), 5));
    }
  }

  @Test
  void placedWithinReachOfALibraryFunction() {
    Path o = LinkFixtures.cObject("live-patch", ObjectLoaderLiveTest.PATCH, "-O2", "-fPIC");
    ObjectLoaderLiveTest.Started s = ObjectLoaderLiveTest.startTarget(tmp);
    try (LiveProcess p = s.process(); Target t = Target.attach(p.pid());
        ElfFile elf = ElfFile.open(o); ProcessSymbols symbols = ProcessSymbols.of(p.pid())) {
      long sleep = symbols.lookup("libc.so.6!usleep").address();
      try (Target.Stopped stopped = t.stop()) {
        LinkPlan lo = LinkFixtures.load(t, elf, LinkOptions.named("nearlibc"), sleep);
        for (Segment seg : lo.segments()) {
          assertTrue(Placement.distance(seg.address(), seg.size(), sleep) <= Placement.REACH);
        }
        t.callFunction(lo.address("patched"), LinkFixtures.string(t, "libc"));
      }
      p.awaitOutput(out -> out.contains("called libc 4 42 57 1\n"), Duration.ofSeconds(10));
    }
  }

  @Test
  void seedPatchAndHookLinkNextToLibcSleepWithDefaultFlags() {
    Path cpatch = LinkFixtures.cObject("cpatch", """
        #include <stdio.h>
        void sleep(int i) {
          printf("sleep called!\\n");
        }
        """);
    Path chook = LinkFixtures.cObject("chook", """
        #include <stdio.h>

        void sleep(int i);

        void _qpatch_hookfun_sleep(int i) {
        	printf("before sleep called!\\n");
        	sleep(i);
        	printf("after sleep called!\\n");
        }
        """);
    ObjectLoaderLiveTest.Started s = ObjectLoaderLiveTest.startTarget(tmp);
    try (LiveProcess p = s.process(); Target t = Target.attach(p.pid());
        ElfFile patch = ElfFile.open(cpatch); ElfFile hook = ElfFile.open(chook);
        ProcessSymbols symbols = ProcessSymbols.of(p.pid())) {
      long sleep = symbols.lookup("libc.so.6!sleep").address();
      try (Target.Stopped stopped = t.stop()) {
        LinkPlan replaced = LinkFixtures.load(t, patch, LinkOptions.named("cpatch.o"), sleep);
        t.callFunction(replaced.address("sleep"), 0);
        LinkPlan hooked = LinkFixtures.load(t, hook,
            LinkOptions.named("chook.o").withOverride("sleep", sleep), sleep);
        assertEquals(sleep, hooked.externals().get("sleep").address());
        t.callFunction(hooked.address("_qpatch_hookfun_sleep"), 0);
        t.callFunction(symbols.lookup("fflush").address(), 0);
      }
      p.awaitOutput(out -> out.contains("sleep called!\nbefore sleep called!\n"
          + "after sleep called!\n"), Duration.ofSeconds(10));
    }
  }

  /** Loaded as a patch: constructors by priority, then _qpatch_init; destructors at rollback. */
  @Test
  void constructorsRunByPriorityBeforeInitAndDestructorsAtRollback() {
    Path o = LinkFixtures.cObject("ctors", """
        #include <stdio.h>
        static int order[3], n;
        __attribute__((constructor(200))) static void second(void) { order[n++] = 2; }
        __attribute__((constructor)) static void third(void) { order[n++] = 3; }
        __attribute__((constructor(150))) static void first(void) { order[n++] = 1; }
        __attribute__((destructor)) static void bye(void) { printf("dtor %d\\n", n); fflush(0); }
        void _qpatch_init(void) { printf("order %d%d%d\\n", order[0], order[1], order[2]); fflush(0); }
        """, "-O2");
    ObjectLoaderLiveTest.Started s = ObjectLoaderLiveTest.startTarget(tmp);
    try (LiveProcess p = s.process(); Target t = Target.attach(p.pid())) {
      Patcher patcher = new Patcher(t);
      patcher.load(o);
      p.awaitOutput(out -> out.contains("order 123\n"), Duration.ofSeconds(10));
      patcher.rollback(o);
      p.awaitOutput(out -> out.contains("dtor 3\n"), Duration.ofSeconds(10));
    }
  }
}
