package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.patch.Programs;
import io.qpatch.patch.RunningTarget;
import io.qpatch.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input to the patch commands: one line on stderr naming the file, symbol or pid,
 * exit status 1, nothing on stdout, and the target untouched (its memory map the same,
 * its output still the old one).
 */
class PatchBadInputTest {
  @TempDir Path dir;

  @Test
  void every_bad_input_is_one_line_status_1_and_leaves_the_target_untouched() throws IOException {
    Path good = Fixtures.object("both", Programs.BOTH);
    byte[] object = Files.readAllBytes(good);
    Path notElf = write("notelf.o", "hello\n".getBytes());
    Path truncated = write("truncated.o", Arrays.copyOf(object, 100));
    byte[] arm = object.clone();
    arm[18] = (byte) 183;  // e_machine EM_AARCH64
    Path aarch64 = write("aarch64.o", arm);
    Path executable = Fixtures.c("ticker", Programs.TICKER, "-O2");
    Path undefined = Fixtures.object("undef", "int no_such(void);\nint value(void) { return no_such(); }\n");
    Path hookNone = Fixtures.object("hooknone", "int _qpatch_hookfun_no_such(void) { return 1; }\n");
    try (RunningTarget target = RunningTarget.start(dir.resolve("out"), executable)) {
      target.awaitOutput(o -> o.contains("tick 1 7\n"), Duration.ofSeconds(5));
      String pid = Integer.toString(target.pid());
      String maps = target.maps();
      expect(notElf + ": not an ELF file", "apply", "-o", notElf.toString(), "-p", pid);
      expect(truncated + ": truncated: section header table at 0x", "apply", "-o", truncated.toString(), "-p", pid);
      expect(aarch64 + ": ELF for machine AArch64 (183), qpatch needs x86-64", "-o", aarch64.toString(), "-p", pid, "-l");
      expect(executable + ": not a relocatable object (ELF type DYN); build the patch with gcc -c or g++ -c",
          "-o", executable.toString(), "-p", pid, "-l");
      expect(dir.resolve("missing.o") + ": no such file", "apply", "-o", dir.resolve("missing.o").toString(), "-p", pid);
      expect(undefined + ": undefined symbol 'no_such' not found in process " + pid, "apply", "-o", undefined.toString(), "-p", pid);
      expect("hooknone.o: _qpatch_hookfun_no_such hooks no_such, which pid " + pid + " does not define",
          "apply", "-o", hookNone.toString(), "-p", pid);
      expect("no process with pid 999999999", "apply", "-o", good.toString(), "-p", "999999999");
      expect("cannot attach to pid 2: EPERM", "apply", "-o", good.toString(), "-p", "2");
      expect(good + " (sha256 ", "-o", good.toString(), "-p", pid, "-a");
      expect(good + " (sha256 ", "-o", good.toString(), "-p", pid, "-r");
      assertEquals(maps, target.maps());
      long mark = target.size();
      assertEquals("tick 1 7\n", target.awaitSince(mark, o -> o.contains("\n"), Duration.ofSeconds(2)));
      assertTrue(target.isAlive());
    }
  }

  /** A real i386 process (gcc -m32, from gcc-multilib) is refused before anything is written. */
  @Test
  void a_32_bit_target_is_refused_and_left_untouched() {
    Path good = Fixtures.object("both", Programs.BOTH);
    // Line-buffered by itself: the runner's stdbuf preload is 64-bit and cannot apply.
    String source = Programs.TICKER.replace("for (;;) {", "setvbuf(stdout, 0, _IOLBF, 0);\n  for (;;) {");
    Path ticker32 = Fixtures.c("ticker32", source, "-O2", "-m32");
    try (RunningTarget target = RunningTarget.start(dir.resolve("out32"), ticker32)) {
      target.awaitOutput(o -> o.contains("tick 1 7\n"), Duration.ofSeconds(5));
      String pid = Integer.toString(target.pid());
      String maps = target.maps();
      String refusal = "pid " + pid + " runs a program for i386 (3), 32-bit; qpatch patches x86-64 processes only";
      expect(refusal, "-o", good.toString(), "-p", pid, "-l");
      expect(refusal, "apply", "-o", good.toString(), "-p", pid);
      assertEquals(maps, target.maps());
      long mark = target.size();
      assertEquals("tick 1 7\n", target.awaitSince(mark, o -> o.contains("\n"), Duration.ofSeconds(2)));
    }
  }

  private Path write(String name, byte[] bytes) throws IOException {
    return Files.write(dir.resolve(name), bytes);
  }

  /** The command fails with status 1 and one stderr line starting "qpatch: " + {@code start}. */
  private static void expect(String start, String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "qpatch";
    System.arraycopy(args, 0, all, 1, args.length);
    CliRun run = CliRun.of(EngineCommands::new, all);
    assertEquals(1, run.exit(), String.join(" ", args) + "\n" + run.err());
    assertEquals("", run.out());
    assertTrue(run.err().startsWith("qpatch: " + start), run.err());
    assertEquals(1, run.err().lines().count(), run.err());
  }
}
