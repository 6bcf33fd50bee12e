package io.qpatch.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.elf.ElfFile;
import io.qpatch.patch.Patcher;
import io.qpatch.proc.Target;
import io.qpatch.symbols.ProcessSymbols;
import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same patch compiled every way a user might (-O0..-O3, with and without -fPIC, with
 * -ffunction-sections -fdata-sections, -fno-plt, the large code model) loads into one live
 * process and runs there.
 */
class CompilerFlagsLiveTest {
  @TempDir Path tmp;

  static List<List<String>> variants() {
    List<List<String>> out = new ArrayList<>();
    for (String opt : List.of("-O0", "-O1", "-O2", "-O3", "-Os")) {
      out.add(List.of(opt));
      out.add(List.of(opt, "-fPIC"));
      out.add(List.of(opt, "-ffunction-sections", "-fdata-sections"));
      out.add(List.of(opt, "-fPIC", "-ffunction-sections", "-fdata-sections"));
    }
    out.add(List.of("-O2", "-fPIC", "-fno-plt"));
    out.add(List.of("-O2", "-mcmodel=large"));
    out.add(List.of("-O2", "-fPIC", "-mcmodel=large"));
    out.add(List.of("-O2", "-fPIC", "-mcmodel=medium"));
    return out;
  }

  static String tag(List<String> flags) {
    return String.join("", flags).replace("-", "_").replace("=", "");
  }

  @Test
  void cPatchLoadsAndRunsForEveryVariant() {
    ObjectLoaderLiveTest.Started s = ObjectLoaderLiveTest.startTarget(tmp);
    List<String> expected = new ArrayList<>();
    try (LiveProcess p = s.process(); Target t = Target.attach(p.pid())) {
      try (Target.Stopped stopped = t.stop()) {
        long near = ObjectLoaderLiveTest.near(p.pid());
        for (List<String> flags : variants()) {
          Path o = LinkFixtures.cObject("flags-c", ObjectLoaderLiveTest.PATCH,
              flags.toArray(String[]::new));
          String tag = tag(flags);
          try (ElfFile elf = ElfFile.open(o)) {
            LinkPlan lo = LinkFixtures.load(t, elf, LinkOptions.named("c" + tag), near);
            t.callFunction(lo.address("patched"), LinkFixtures.string(t, tag));
            expected.add("called " + tag + " " + tag.length() + " 42 57 1");
          }
        }
      }
      String want = String.join("\n", expected) + "\n";
      String out = p.awaitOutput(o -> o.contains(want), Duration.ofSeconds(10));
      assertTrue(out.contains(want), out);
      assertEquals(variants().size(), LinkFixtures.loadedNames(t).size());
    }
  }

  @Test
  void cxxPatchLoadsAndRunsForEveryVariant() {
    Path exe = Fixtures.cxx("cxx-target", CxxLinkTest.PROGRAM, "-O0");
    List<List<String>> variants = variants();
    try (LiveProcess p = LiveProcess.start(tmp.resolve("out.txt"), exe.toString());
        Target t = Target.attach(p.pid())) {
      p.awaitOutput(out -> out.contains("hello world"), Duration.ofSeconds(10));
      Patcher patcher = new Patcher(t);
      for (List<String> flags : variants) {
        patcher.load(LinkFixtures.cxxObject("flags-cxx", CxxLinkTest.PATCH, flags.toArray(String[]::new)));
      }
      String want = CxxLinkTest.RAN_4.repeat(variants.size());
      p.awaitOutput(out -> out.contains(want), Duration.ofSeconds(10));
    }
  }
}
