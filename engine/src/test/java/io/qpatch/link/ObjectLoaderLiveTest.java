package io.qpatch.link;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.elf.ElfFile;
import io.qpatch.error.BadInputException;
import io.qpatch.proc.Mapping;
import io.qpatch.proc.Target;
import io.qpatch.symbols.ProcessSymbols;
import io.qpatch.sys.Reg;
import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading objects into real, stopped processes. */
class ObjectLoaderLiveTest {
  static final String PROGRAM = """
      #include <stdio.h>
      #include <string.h>
      #include <unistd.h>
      __thread int tls_counter = 5;
      int global_value = 42;
      __attribute__((noinline, noclone, used)) static int hidden_function(int x) {
        return x * 3 + global_value;
      }
      __attribute__((noinline)) int target_function(int x) { return hidden_function(x) + 1; }
      int main(void) {
        size_t (*volatile sl)(const char *) = strlen;
        printf("strlen=%p tls=%p global=%p\\n", (void *)sl, (void *)&tls_counter,
               (void *)&global_value);
        fflush(stdout);
        for (;;) { target_function(1); usleep(10000); }
      }
      """;

  static final String PATCH = """
      #include <stdio.h>
      #include <string.h>
      extern int global_value;
      extern __thread int tls_counter;
      extern int hidden_function(int);
      static int calls;
      int patched(const char *s) {
        calls++;
        int n = printf("called %s %d %d %d %d\\n", s, (int)strlen(s), global_value,
                       hidden_function(tls_counter), calls);
        fflush(0);
        return n;
      }
      """;

  @TempDir Path tmp;

  static Started startTarget(Path tmp) {
    return new ObjectLoaderLiveTest().startIn(tmp);
  }

  record Started(LiveProcess process, Map<String, Long> printed) {}

  private Started start() {
    return startIn(tmp);
  }

  private Started startIn(Path tmp) {
    Path exe = Fixtures.c("link-target", PROGRAM, "-O2");
    LiveProcess p = LiveProcess.start(tmp.resolve("out.txt"), exe.toString());
    String out = p.awaitOutput(s -> s.contains("\n"), Duration.ofSeconds(10));
    Map<String, Long> printed = new HashMap<>();
    Matcher m = Pattern.compile("(\\w+)=0x([0-9a-f]+)").matcher(out);
    while (m.find()) printed.put(m.group(1), Long.parseUnsignedLong(m.group(2), 16));
    return new Started(p, printed);
  }

  static long near(int pid) {
    try (ProcessSymbols symbols = ProcessSymbols.of(pid)) {
      return symbols.lookup("target_function").address();
    }
  }

  @Test
  void loadedObjectIsNamedMemfdWithExactBytesWithinReachAndUnloads() {
    Path o = LinkFixtures.cObject("live-patch", PATCH, "-O2");
    Started s = start();
    try (LiveProcess p = s.process(); Target t = Target.attach(p.pid());
        ElfFile elf = ElfFile.open(o); Target.Stopped stopped = t.stop()) {
      long near = near(p.pid());
      LinkPlan lo = LinkFixtures.load(t, elf, LinkOptions.named("live-patch"), near);
      List<Mapping> ours = t.maps().stream()
          .filter(m -> m.path().startsWith("/memfd:qpatch:live-patch")).toList();
      assertEquals(List.of("r-xs", "r--s", "rw-s"), ours.stream().map(Mapping::perms).toList());
      for (Segment seg : lo.segments()) {
        assertTrue(Placement.distance(seg.address(), seg.size(), near) < 0x7fffffffL, seg.toString());
        byte[] expected = lo.bytes(seg);
        assertArrayEquals(expected, t.read(seg.address(), expected.length), seg.toString());
      }
      assertEquals(lo.segments().stream().map(Segment::address).toList(), ours.stream().map(Mapping::start).toList());
      LinkFixtures.unload(t, lo);
      assertTrue(LinkFixtures.loadedNames(t).isEmpty());
    }
  }

  @Test
  void symbolsResolveToTheProcessIncludingStaticFunctionIfuncAndThreadLocal() {
    Path o = LinkFixtures.cObject("live-patch", PATCH, "-O2");
    Started s = start();
    try (LiveProcess p = s.process(); Target t = Target.attach(p.pid());
        ElfFile elf = ElfFile.open(o); Target.Stopped stopped = t.stop();
        ProcessSymbols symbols = ProcessSymbols.of(p.pid())) {
      ProcessSymbolSource source = new ProcessSymbolSource(symbols);
      assertEquals(s.printed().get("strlen"), source.lookup("strlen").orElseThrow().address(),
          "strlen is an IFUNC: the implementation the program uses");
      assertEquals(s.printed().get("global"), source.lookup("global_value").orElseThrow().address());
      assertEquals(symbols.lookup("hidden_function").address(),
          source.lookup("hidden_function").orElseThrow().address());
      ThreadLocalSymbol tls = source.lookupThreadLocal("tls_counter").orElseThrow();
      long fsBase = t.registers(p.pid()).get(Reg.FS_BASE);
      assertEquals(s.printed().get("tls"), fsBase + tls.tpOffset(),
          "x86-64 variant II: the executable's block ends at the thread pointer");
      LinkPlan plan = ObjectLoader.plan(elf, source, LinkOptions.named("x"), (near(p.pid()) & -4096) - 0x100000);
      assertEquals(s.printed().get("strlen"), plan.externals().get("strlen").address());
    }
  }

  @Test
  void loadedFunctionRunsInTheTargetReachingPrintfIfuncStaticFunctionGlobalAndThreadLocal() {
    Path o = LinkFixtures.cObject("live-patch", PATCH, "-O2");
    Started s = start();
    try (LiveProcess p = s.process(); Target t = Target.attach(p.pid());
        ElfFile elf = ElfFile.open(o)) {
      try (Target.Stopped stopped = t.stop()) {
        LinkPlan lo = LinkFixtures.load(t, elf, LinkOptions.named("call"), near(p.pid()));
        long hello = LinkFixtures.string(t, "hello");
        long n = t.callFunction(lo.address("patched"), hello);
        assertEquals("called hello 5 42 57 1\n".length(), n);
        t.callFunction(lo.address("patched"), hello);
      }
      p.awaitOutput(out -> out.contains("called hello 5 42 57 1\ncalled hello 5 42 57 2\n"),
          Duration.ofSeconds(10));
      assertTrue(p.isAlive());
    }
  }

  @Test
  void undefinedSymbolIsOneLineAndLeavesTheMapUnchanged() {
    Path o = LinkFixtures.cObject("live-undef",
        "extern int foo(void); int bar(void) { return foo(); }\n", "-O2");
    Started s = start();
    try (LiveProcess p = s.process(); Target t = Target.attach(p.pid());
        ElfFile elf = ElfFile.open(o); Target.Stopped stopped = t.stop()) {
      List<Mapping> before = t.maps();
      BadInputException e = assertThrows(BadInputException.class,
          () -> LinkFixtures.load(t, elf, LinkOptions.named("undef"), near(p.pid())));
      assertEquals(o + ": undefined symbol 'foo' not found in process " + p.pid(), e.getMessage());
      assertEquals(before, t.maps());
    }
  }
}
