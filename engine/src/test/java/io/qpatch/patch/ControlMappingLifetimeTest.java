package io.qpatch.patch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.proc.Mapping;
import io.qpatch.proc.ProcMaps;
import io.qpatch.proc.Target;
import io.qpatch.testing.Fixtures;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * qpatch's control mapping stays in the target from the command that loads a patch to the
 * one that rolls the last back, each a new attach as the command line does: the commands in
 * between find it and do not make it again; after the last rollback no qpatch mapping is left.
 */
class ControlMappingLifetimeTest {
  @TempDir Path dir;

  @Test
  void it_lives_while_a_patch_is_loaded_and_goes_with_the_last() {
    Path patch = Fixtures.object("value2", Programs.VALUE_2);
    Path program = Fixtures.c("counting", Programs.COUNTING, "-O2", "-pthread");
    try (RunningTarget p = RunningTarget.start(dir.resolve("out"), program)) {
      try (Target t = Target.attach(p.pid())) {
        new Patcher(t).load(patch);
      }
      List<Mapping> afterLoad = control(p.pid());
      assertEquals(2, afterLoad.size(), "the pad and its slots: " + afterLoad);
      try (Target t = Target.attach(p.pid())) {
        new Patcher(t).activate(patch);
      }
      assertEquals(afterLoad, control(p.pid()), "made again by -a");
      try (Target t = Target.attach(p.pid())) {
        assertTrue(new Patcher(t).rollback(patch).stillInUse().isEmpty());
      }
      assertTrue(ProcMaps.read(p.pid()).stream().noneMatch(m -> m.memfdName().startsWith("qpatch")),
          "qpatch mappings left: " + ProcMaps.read(p.pid()));
    }
  }

  private static List<Mapping> control(int pid) {
    return ProcMaps.read(pid).stream().filter(m -> Target.isControlMappingName(m.memfdName())).toList();
  }
}
