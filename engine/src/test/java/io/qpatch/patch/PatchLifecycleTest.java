package io.qpatch.patch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.error.BadInputException;
import io.qpatch.error.RefusedException;
import io.qpatch.proc.Target;
import io.qpatch.symbols.ProcessSymbols;
import io.qpatch.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lifecycle on live targets, through the engine's API (the CLI tests use the launcher). */
class PatchLifecycleTest {
  private static final Duration WAIT = Duration.ofSeconds(5);
  private static final PatchOptions QUICK = PatchOptions.DEFAULT
      .withQuietTimeout(Duration.ofMillis(200)).withUnloadWait(Duration.ofSeconds(5));

  @TempDir Path dir;

  private RunningTarget ticker() {
    return RunningTarget.start(dir.resolve("out"), Fixtures.c("ticker", Programs.TICKER, "-O2"));
  }

  private static int indexAfter(String text, String line, int from) {
    int i = text.indexOf(line, from);
    assertTrue(i >= 0, "missing '" + line.strip() + "' after " + from + " in:\n" + RunningTarget.tail(text));
    return i;
  }

  @Test
  void constructors_init_and_the_four_callbacks_run_in_the_target_in_order() {
    Path patch = Fixtures.object("callbacks", Programs.CALLBACKS);
    try (RunningTarget p = ticker(); Target t = Target.attach(p.pid())) {
      Patcher patcher = new Patcher(t, QUICK);
      patcher.load(patch);
      String out = p.awaitOutput(o -> o.contains("init ran\n"), WAIT);
      int at = indexAfter(out, "init ran\n", indexAfter(out, "constructor ran\n", 0));
      patcher.activate(patch);
      out = p.awaitOutput(o -> o.contains("tick 42 43\n"), WAIT);
      at = indexAfter(out, "tick 42 43\n", indexAfter(out, "active_after\n", indexAfter(out, "active_before\n", at)));
      assertEquals(PatchState.ACTIVE, patcher.query(patch).state());
      patcher.rollback(patch);
      int back = p.output().length();
      out = p.awaitOutput(o -> o.indexOf("tick 1 7\n", back) >= 0, WAIT);
      indexAfter(out, "destructor ran\n", indexAfter(out, "deactive_after\n", indexAfter(out, "deactive_before\n", at)));
      assertTrue(patcher.query().patches().isEmpty());
    }
  }

  @Test
  void a_hook_stacks_on_a_replacement_and_they_come_off_in_reverse_order_only() {
    Path replace = Fixtures.object("value10", Programs.VALUE_10);
    Path hook = Fixtures.object("valuehook", Programs.VALUE_HOOK);
    try (RunningTarget p = ticker(); Target t = Target.attach(p.pid())) {
      Patcher patcher = new Patcher(t, QUICK);
      patcher.apply(replace);
      patcher.apply(hook);
      int mark = p.output().length();
      p.awaitOutput(o -> o.indexOf("tick 110 7\n", mark) >= 0, WAIT);
      RefusedException e = assertThrows(RefusedException.class, () -> patcher.rollback(replace));
      assertTrue(e.getMessage().contains("valuehook.o (sha256 ") && e.getMessage().contains(
          "is on top of it on value; roll back valuehook.o first"), e.getMessage());
      assertEquals("under valuehook.o", patcher.query(replace).functions().getFirst().entry());
      patcher.rollback(hook);
      int afterHook = p.output().length();
      p.awaitOutput(o -> o.indexOf("tick 10 7\n", afterHook) >= 0, WAIT);
      patcher.rollback(replace);
      int afterAll = p.output().length();
      p.awaitOutput(o -> o.indexOf("tick 1 7\n", afterAll) >= 0, WAIT);
      assertTrue(patcher.query().patches().isEmpty());
      assertEquals("", String.join("", p.maps().lines().filter(l -> l.contains("qpatch:")).toList()));
    }
  }

  @Test
  void one_patch_over_the_program_and_libc_gets_a_stub_area_near_each_and_switches_both() {
    Path patch = Fixtures.object("twomodules", """
        #include <unistd.h>
        int value(void) { return 5; }
        int _qpatch_hookfun_usleep(useconds_t us) { return usleep(us / 2); }
        """);
    try (RunningTarget p = ticker(); Target t = Target.attach(p.pid())) {
      Patcher patcher = new Patcher(t, QUICK);
      PatchStatus s = patcher.apply(patch);
      assertEquals(List.of("value ticker", "usleep libc.so.6"), s.functions().stream()
          .map(f -> f.name() + " " + f.module()).toList());
      long stubsNearProgram = s.functions().get(0).stub();
      long stubsNearLibc = s.functions().get(1).stub();
      assertTrue(Math.abs(stubsNearProgram - s.functions().get(0).address()) < (1L << 31));
      assertTrue(Math.abs(stubsNearLibc - s.functions().get(1).address()) < (1L << 31));
      int mark = p.output().length();
      p.awaitOutput(o -> o.indexOf("tick 5 7\n", mark) >= 0, WAIT);
      patcher.rollback(patch);
      int back = p.output().length();
      p.awaitOutput(o -> o.indexOf("tick 1 7\n", back) >= 0, WAIT);
    }
  }

  @Test
  void a_patch_loads_once_and_another_build_of_the_same_file_is_refused_until_rolled_back() throws Exception {
    Path patch = dir.resolve("value.o");
    Files.copy(Fixtures.object("value10", Programs.VALUE_10), patch);
    try (RunningTarget p = ticker(); Target t = Target.attach(p.pid())) {
      Patcher patcher = new Patcher(t, QUICK);
      patcher.load(patch);
      BadInputException twice = assertThrows(BadInputException.class, () -> patcher.load(patch));
      assertTrue(twice.getMessage().startsWith("value.o (sha256 ") && twice.getMessage().endsWith(
          " is already loaded in pid " + p.pid() + " (loaded); a patch loads once"), twice.getMessage());
      Files.copy(Fixtures.object("value2", Programs.VALUE_2), patch, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      BadInputException rebuilt = assertThrows(BadInputException.class, () -> patcher.load(patch));
      assertTrue(rebuilt.getMessage().startsWith("another build of " + patch + " is loaded in pid "), rebuilt.getMessage());
      BadInputException activate = assertThrows(BadInputException.class, () -> patcher.activate(patch));
      assertTrue(activate.getMessage().startsWith(patch + " has changed since it was loaded"), activate.getMessage());
      assertTrue(patcher.rollback(patch).stillInUse().isEmpty());
      assertTrue(patcher.query().patches().isEmpty());
    }
  }

  @Test
  void a_failing_activation_puts_back_every_entry_byte_and_stays_loaded() {
    Path patch = Fixtures.object("failingafter", Programs.FAILING_AFTER);
    try (RunningTarget p = ticker(); Target t = Target.attach(p.pid());
        ProcessSymbols symbols = ProcessSymbols.of(p.pid())) {
      long value = symbols.lookup("value").address();
      long other = symbols.lookup("other").address();
      byte[] valueBefore = t.read(value, 16);
      byte[] otherBefore = t.read(other, 16);
      Patcher patcher = new Patcher(t, QUICK);
      patcher.load(patch);
      RefusedException e = assertThrows(RefusedException.class, () -> patcher.activate(patch));
      assertTrue(e.getMessage().startsWith("_pat_callback_active_after of failingafter.o (sha256 "), e.getMessage());
      assertTrue(e.getMessage().contains("crashed (SIGSEGV at 0x"), e.getMessage());
      assertArrayEquals(valueBefore, t.read(value, 16));
      assertArrayEquals(otherBefore, t.read(other, 16));
      assertEquals(PatchState.LOADED, patcher.query(patch).state());
      int mark = p.output().length();
      String out = p.awaitOutput(o -> o.indexOf("tick 1 7\n", mark) >= 0, WAIT);
      assertTrue(!out.contains("tick 2") && !out.contains(" 8\n"), RunningTarget.tail(out));
      patcher.rollback(patch);
      assertTrue(patcher.query().patches().isEmpty());
    }
  }

  @Test
  void a_short_function_an_unmovable_prologue_and_a_thread_inside_the_entry_are_refused_by_name() {
    Path program = Fixtures.c("awkward", Programs.AWKWARD, "-O2", "-pthread");
    try (RunningTarget p = RunningTarget.start(dir.resolve("out"), program);
        Target t = Target.attach(p.pid())) {
      p.awaitOutput(o -> o.contains("loopy 10"), WAIT);
      Patcher patcher = new Patcher(t, QUICK);
      String maps = p.maps();
      assertEquals("cannot replace tiny in awkward: it is 1 byte long, and what follows it is not"
          + " padding (nops or int3) that the 5-byte jump at its entry could take (bytes c3 31 c0 ff"
          + " c0 83 f8 0a)", refusal(patcher, "void tiny(void) {}\n"));
      assertTrue(refusal(patcher, "int loopy(void) { return 3; }\n").startsWith(
          "cannot replace loopy in awkward: its first instructions cannot be moved to a trampoline: "),
          "loopy");
      String busy = refusal(patcher, "long blocker(void) { return 0; }\n");
      assertTrue(busy.matches("cannot activate blocker\\.o \\(sha256 [0-9a-f]{12}\\) now: thread \\d+"
          + " \\(awkward\\) is executing at 0x[0-9a-f]+, inside the first 5 bytes of blocker"
          + " \\(tried for 200 ms\\); try again \\(the patch was unloaded again\\)"), busy);
      assertEquals(maps, withoutControlPage(p.maps()), "qpatch's control page stays while attached");
      assertTrue(patcher.query().patches().isEmpty());
    }
  }

  private String refusal(Patcher patcher, String source) {
    String name = source.substring(source.indexOf(' ') + 1, source.indexOf('('));
    Path patch = Fixtures.object(name, source);
    return assertThrows(RefusedException.class, () -> patcher.apply(patch)).getMessage();
  }

  @Test
  void eight_threads_calling_the_function_see_only_old_or_new_results_through_200_patch_cycles() {
    Path program = Fixtures.c("threads", Programs.THREADS, "-O2", "-pthread");
    Path patch = Fixtures.object("value2", Programs.VALUE_2);
    try (RunningTarget p = RunningTarget.start(dir.resolve("out"), program);
        Target t = Target.attach(p.pid())) {
      p.awaitOutput(o -> o.contains("running\n"), WAIT);
      Patcher patcher = new Patcher(t, QUICK);
      for (int i = 0; i < 200; i++) {
        patcher.apply(patch);
        assertTrue(patcher.rollback(patch).stillInUse().isEmpty(), "cycle " + i);
      }
      int mark = p.output().length();
      String out = p.awaitOutput(o -> o.indexOf("calls", mark) >= 0, WAIT);
      assertTrue(p.isAlive() && !out.contains("BAD"), RunningTarget.tail(out));
      List<String> counts = out.lines().filter(l -> l.startsWith("calls")).toList();
      String[] last = counts.getLast().split(" ");
      assertTrue(Long.parseLong(last[3]) > 0 && Long.parseLong(last[5]) > 0,
          "both old and new results were seen: " + counts.getLast());
    }
  }

  private static String withoutControlPage(String maps) {
    return maps.lines().filter(l -> !l.contains("/memfd:qpatch-control")).map(l -> l + "\n")
        .collect(java.util.stream.Collectors.joining());
  }
}
