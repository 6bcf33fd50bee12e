package io.qpatch.patch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.proc.Target;
import io.qpatch.testing.Fixtures;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The memory of a patch is made and freed by one held thread while the others run: only the
 * switch stops every thread. Seen from inside: at each memfd_create, mmap and munmap (a
 * {@link Checkpoints} observer, called while the system call's thread is still held) the
 * target's counting thread keeps counting, and the held thread is the one in pause().
 */
class HeldWorkTest {
  private static final Set<String> MEMORY_CALLS = Set.of("memfd_create", "mmap", "munmap");

  @TempDir Path dir;

  @Test
  void memory_is_made_and_freed_by_the_thread_in_pause_while_the_counting_thread_runs() {
    Path program = Fixtures.c("counting", Programs.COUNTING, "-O2", "-pthread");
    Path patch = Fixtures.object("value2", Programs.VALUE_2);
    try (RunningTarget p = RunningTarget.start(dir.resolve("out"), program);
        Target t = Target.attach(p.pid())) {
      String out = p.awaitOutput(o -> o.contains("counter 0x"), Duration.ofSeconds(5));
      long counter = Long.parseUnsignedLong(out.substring(out.indexOf("0x") + 2).strip(), 16);
      List<String> seen = Collections.synchronizedList(new ArrayList<>());
      Checkpoints.observe((kind, what) -> {
        if (!MEMORY_CALLS.contains(kind)) return;
        long before = t.readLong(counter);
        boolean counting = awaitChange(t, counter, before);
        seen.add(kind + ": thread " + t.heldThread() + " held, " + (counting ? "counting" : "NOT counting"));
      });
      Patcher patcher = new Patcher(t);
      try {
        patcher.apply(patch);
        assertTrue(patcher.rollback(patch).stillInUse().isEmpty());
      } finally {
        Checkpoints.observe(null);
      }
      assertTrue(seen.size() >= 6, "memfd_create, mmap and munmap seen: " + seen);
      for (String s : seen) {
        assertEquals(s.substring(0, s.indexOf(':')) + ": thread " + p.pid() + " held, counting", s);
      }
      assertTrue(patcher.query().patches().isEmpty());
    }
  }

  /** True once the value at {@code address} differs from {@code from}, waiting up to 2 s. */
  private static boolean awaitChange(Target t, long address, long from) {
    long deadline = System.nanoTime() + 2_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (t.readLong(address) != from) return true;
      Thread.onSpinWait();
    }
    return false;
  }
}
