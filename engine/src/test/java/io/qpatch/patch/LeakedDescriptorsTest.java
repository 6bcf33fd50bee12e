package io.qpatch.patch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qpatch.proc.Target;
import io.qpatch.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Descriptors a qpatch killed between memfd_create and close leaves open in the target (a
 * patch's memfd, the control mapping's) are closed by the next command's tidying; others are
 * left alone.
 */
class LeakedDescriptorsTest {
  @TempDir Path dir;

  @Test
  void the_next_command_closes_memfds_a_killed_qpatch_left_open() throws IOException {
    Path patch = Fixtures.object("value2", Programs.VALUE_2);
    try (RunningTarget p = RunningTarget.start(dir.resolve("out"),
            Fixtures.c("ticker", Programs.TICKER, "-O2"));
        Target t = Target.attach(p.pid())) {
      t.whileOneHeld(() -> {
        t.memfdCreate("qpatch:leftover.o-0123456789ab", 1);
        t.memfdCreate("qpatch-control", 1);
        return t.memfdCreate("someone-else", 1);
      });
      assertEquals(List.of("qpatch-control", "qpatch:leftover.o-0123456789ab", "someone-else"),
          memfds(p.pid()));
      List<String> done = new java.util.ArrayList<>();
      new Patcher(t, PatchOptions.DEFAULT.withProgress(done::add)).apply(patch);
      assertEquals(List.of("someone-else"), memfds(p.pid()), "tidied: " + done);
    }
  }

  /** The memfd names of the descriptors open in {@code pid}, sorted. */
  private static List<String> memfds(int pid) throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc", "" + pid, "fd"))) {
      return fds.map(fd -> {
        try {
          return Files.readSymbolicLink(fd).toString();
        } catch (IOException e) {
          return "";
        }
      }).filter(l -> l.startsWith("/memfd:"))
          .map(l -> l.substring("/memfd:".length()).replace(" (deleted)", "")).sorted().toList();
    }
  }
}
