package io.qpatch.trace;

import io.qpatch.sys.Libc;
import io.qpatch.sys.WaitFlags;

/**
 * A launched program after ptrace let it go: still our child, so its exit is collected
 * with waitpid (its status becomes gotrace's).
 */
final class ChildProcess {
  private final int pid;
  private int raw = -1;

  ChildProcess(int pid) {
    this.pid = pid;
  }

  /** True until it has exited (its status is kept). */
  synchronized boolean alive() {
    if (raw >= 0) return false;
    int[] status = new int[1];
    if (Libc.waitpid(pid, status, WaitFlags.WNOHANG) == 0) return true;
    raw = status[0];
    return false;
  }

  /** Waits for the exit; the status as a shell reports it (128 + signal when killed). */
  synchronized int waitExit() {
    if (raw < 0) {
      int[] status = new int[1];
      Libc.waitpid(pid, status, 0);
      raw = status[0];
    }
    return shellStatus(raw);
  }

  static int shellStatus(int raw) {
    int sig = raw & 0x7f;
    return sig == 0 ? (raw >> 8) & 0xff : 128 + sig;
  }
}
