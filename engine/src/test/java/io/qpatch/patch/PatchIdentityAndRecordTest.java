package io.qpatch.patch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.elf.ElfFile;
import io.qpatch.error.BadInputException;
import io.qpatch.proc.Target;
import io.qpatch.testing.Fixtures;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The build-id a patch names, and a record the target damaged. */
class PatchIdentityAndRecordTest {
  private static final Duration WAIT = Duration.ofSeconds(5);

  @TempDir Path dir;

  private static Path patchFor(String buildId) {
    return Fixtures.object("value2-" + buildId.substring(0, 8), "#include \"qpatch.h\"\n"
        + "QPATCH_TARGET_BUILD_ID(\"" + buildId + "\");\n" + Programs.VALUE_2, "-I" + Targets.examples());
  }

  @Test
  void a_patch_for_another_build_is_refused_and_one_for_this_build_loads() {
    Path program = Fixtures.c("ticker", Programs.TICKER, "-O2");
    String buildId;
    try (ElfFile elf = ElfFile.open(program)) {
      buildId = elf.buildId().orElseThrow();
    }
    try (RunningTarget p = RunningTarget.start(dir.resolve("out"), program);
        Target t = Target.attach(p.pid())) {
      Patcher patcher = new Patcher(t);
      String maps = p.maps();
      BadInputException e = assertThrows(BadInputException.class,
          () -> patcher.load(patchFor("00112233445566778899aabbccddeeff00112233")));
      assertEquals("value2-00112233.o is built for build-id 00112233445566778899aabbccddeeff00112233,"
          + " which no module of pid " + p.pid() + " has; its program has build-id " + buildId
          + " (rebuild the patch against the running program)", e.getMessage());
      assertEquals(maps, p.maps());
      patcher.apply(patchFor(buildId));
      int mark = p.output().length();
      p.awaitOutput(o -> o.indexOf("tick 2 7", mark) >= 0, WAIT);
      patcher.rollback(patchFor(buildId));
    }
  }

  @Test
  void a_damaged_record_is_reported_and_left_alone_and_the_target_keeps_running() {
    Path program = Fixtures.c("ticker", Programs.TICKER, "-O2");
    Path patch = Fixtures.object("value2", Programs.VALUE_2);
    try (RunningTarget p = RunningTarget.start(dir.resolve("out"), program);
        Target t = Target.attach(p.pid())) {
      Patcher patcher = new Patcher(t);
      long record = patcher.apply(patch).recordAddress();
      byte[] good = t.read(record + RecordCodec.HEADER_SIZE, 1);
      t.write(record + RecordCodec.HEADER_SIZE, new byte[] {(byte) (good[0] ^ 0x55)});
      Patcher.Query q = patcher.query();
      assertTrue(q.patches().isEmpty());
      assertEquals(1, q.problems().size());
      assertTrue(q.problems().getFirst().matches("the patch record at 0x[0-9a-f]+ in pid \\d+"
          + " \\(qpatch:value2\\.o-[0-9a-f]{12}:record\\) is corrupt: checksum mismatch; qpatch leaves"
          + " that patch alone"), q.problems().getFirst());
      BadInputException e = assertThrows(BadInputException.class, () -> patcher.rollback(patch));
      assertTrue(e.getMessage().endsWith("is not loaded in pid " + p.pid()
          + " (no patch is loaded there; 1 corrupt record(s), see qpatch -q)"), e.getMessage());
      int mark = p.output().length();
      p.awaitOutput(o -> o.indexOf("tick 2 7", mark) >= 0, WAIT);
      t.write(record + RecordCodec.HEADER_SIZE, good);
      patcher.rollback(patch);
      int back = p.output().length();
      p.awaitOutput(o -> o.indexOf("tick 1 7", back) >= 0, WAIT);
    }
  }
}
