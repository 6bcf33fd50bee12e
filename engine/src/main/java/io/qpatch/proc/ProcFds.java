package io.qpatch.proc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** The memfd descriptors a process has open, read from {@code /proc/PID/fd} (proc(5)). */
public final class ProcFds {
  private ProcFds() {}

  /**
   * Descriptor number to memfd name ({@link Mapping#memfdNameOf}) for each memfd that
   * {@code pid} has open; empty when the process is gone. A descriptor closed while it is
   * read is left out.
   */
  public static Map<Integer, String> memfds(int pid) {
    Map<Integer, String> out = new TreeMap<>();
    try (Stream<Path> fds = Files.list(Path.of("/proc", Integer.toString(pid), "fd"))) {
      for (Path fd : fds.toList()) {
        try {
          String name = Mapping.memfdNameOf(Files.readSymbolicLink(fd).toString());
          if (!name.isEmpty()) out.put(Integer.parseInt(fd.getFileName().toString()), name);
        } catch (IOException e) {
          // closed meanwhile
        }
      }
    } catch (IOException e) {
      return Map.of();
    }
    return out;
  }
}
