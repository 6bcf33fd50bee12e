package io.qpatch.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Remote system calls made with one thread held, seen through qpatch's own record of every
 * hold (QPATCH_TRACE_STOPS=1, {@link HoldLog}): from attach to detach, making and removing
 * the control page included, no two threads of the target are ever held at the same time,
 * and the remote work is done by the thread waiting in pause(), the counting thread being
 * held only to attach, to check it is not in the control page, and to detach.
 */
class HoldIntervalsTest {
  @TempDir Path tmp;

  @Test
  void from_attach_to_detach_no_two_threads_are_held_at_once() throws Exception {
    Path exe = Fixtures.c("pauser", HoldTest.PAUSER, "-O1", "-pthread");
    try (LiveProcess target = LiveProcess.start(tmp.resolve("out.txt"), exe.toString())) {
      target.awaitOutput(s -> s.contains("counter 0x"), Duration.ofSeconds(10));
      Path err = tmp.resolve("child.err");
      Process child = child(target.pid(), err);
      assertTrue(child.waitFor(30, TimeUnit.SECONDS), "child did not finish");
      String out = Files.readString(err);
      assertEquals(0, child.exitValue(), out);

      Map<Integer, List<double[]>> holds = new TreeMap<>();
      for (String line : out.lines().toList()) {
        String[] f = line.split(" ");
        if (!f[0].equals("qpatch-pause") || Integer.parseInt(f[1]) != target.pid()) continue;
        holds.computeIfAbsent(Integer.parseInt(f[2]), k -> new ArrayList<>())
            .add(new double[] {Double.parseDouble(f[3]), Double.parseDouble(f[4])});
      }
      assertEquals(2, holds.size(), "both threads held at some point: " + out);
      List<double[]> main = holds.get(target.pid());
      List<double[]> counting = holds.entrySet().stream()
          .filter(e -> e.getKey() != target.pid()).findFirst().orElseThrow().getValue();
      // control page: 4 system calls; 3 getpid; removing the page: 1; plus attach, check, detach
      assertTrue(main.size() >= 8, "holds of the thread in pause(): " + main.size());
      // attach, the check before the control page is removed, detach; one more if a stop took
      // long enough in this cold child JVM to be interrupted again (ThreadSet.NUDGE_NANOS)
      assertTrue(counting.size() <= 4, "holds of the counting thread: " + counting.size());
      for (double[] a : main) {
        for (double[] b : counting) {
          assertFalse(a[0] < b[1] && b[0] < a[1],
              "both threads held at once: " + a[0] + "-" + a[1] + " and " + b[0] + "-" + b[1]);
        }
      }
      assertTrue(target.isAlive());
    }
  }

  private static Process child(int pid, Path err) throws Exception {
    ProcessBuilder pb = ChildJvm.of(HoldIntervalsChild.class, List.of(), List.of("" + pid));
    pb.environment().put("QPATCH_TRACE_STOPS", "1");
    return pb.redirectOutput(err.toFile()).start();
  }

}
