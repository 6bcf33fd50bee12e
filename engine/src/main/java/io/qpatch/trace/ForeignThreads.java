package io.qpatch.trace;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Tells the target's threads from others that run its probes: a forked child keeps the
 * trampolines and shares the ring (a MAP_SHARED mapping stays shared across fork), and a
 * vfork child (Go's os/exec) runs in the target's own memory until it execs. Decided once
 * per thread id from /proc: a task of the target is ours; a live task of another process
 * is not; a thread already gone is taken for ours (short-lived threads are far more
 * common than forked children that exit at once).
 */
final class ForeignThreads {
  private final int pid;
  private final Map<Integer, Boolean> foreign = new HashMap<>();
  /** Runs of records come from one thread: the last answer saves a map lookup. */
  private int lastTid = -1;
  private boolean lastForeign;

  ForeignThreads(int pid) {
    this.pid = pid;
  }

  boolean isForeign(int tid) {
    if (tid == lastTid) return lastForeign;
    Boolean known = foreign.get(tid);
    if (known == null) {
      known = decide(tid);
      foreign.put(tid, known);
    }
    lastTid = tid;
    lastForeign = known;
    return known;
  }

  private boolean decide(int tid) {
    if (tid == pid || Files.exists(Path.of("/proc", Integer.toString(pid), "task", Integer.toString(tid)))) {
      return false;
    }
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(tid), "status"))) {
        if (line.startsWith("Tgid:")) return Integer.parseInt(line.substring(5).trim()) != pid;
      }
    } catch (IOException | NumberFormatException e) {
      // gone: see the class comment
    }
    return false;
  }
}
