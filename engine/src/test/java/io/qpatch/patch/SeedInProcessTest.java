package io.qpatch.patch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.proc.Target;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SeedInProcessTest {
  @TempDir Path dir;

  @Test
  void replacing_sleep_in_cmain_then_rolling_back() {
    Path cmain = Targets.exampleProgram("cmain.c");
    Path cpatch = Targets.examplePatch("cpatch.c");
    try (RunningTarget p = RunningTarget.start(dir.resolve("out"), cmain);
        Target t = Target.attach(p.pid())) {
      Patcher patcher = new Patcher(t, PatchOptions.DEFAULT.withProgress(System.out::println));
      PatchStatus loaded = patcher.load(cpatch);
      assertEquals(PatchState.LOADED, loaded.state());
      System.out.println(loaded);
      PatchStatus active = patcher.activate(cpatch);
      assertEquals(PatchState.ACTIVE, active.state());
      System.out.println(patcher.query());
      p.awaitOutput(o -> o.contains("sleep called!"), Duration.ofSeconds(8));
      Patcher.RollbackResult rb = patcher.rollback(cpatch);
      System.out.println(rb);
      int mark = p.output().length();
      RunningTarget.sleep(300);
      assertTrue(p.isAlive());
      System.out.println(patcher.query());
      assertTrue(patcher.query().patches().isEmpty());
    }
  }
}
