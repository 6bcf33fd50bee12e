package io.qpatch.trace;

import io.qpatch.error.SyscallException;
import io.qpatch.proc.ForkHandler;
import io.qpatch.proc.Target;
import io.qpatch.sys.Errno;
import io.qpatch.sys.Ptrace;
import io.qpatch.sys.Signals;
import io.qpatch.sys.WaitStatus;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * What the ptrace backend does with processes the target forks: a forked child has a
 * copy of the parent's memory, int3s included, and would die of SIGTRAP at its first
 * probed call (Go's os/exec, C's fork). A child with its own copy gets every original
 * byte back and is let go. A vfork child (clone with CLONE_VM, as Go's os/exec does)
 * shares the parent's memory, so the int3s cannot be taken out: its hits are answered
 * like the parent's (not reported) until it execs or exits, then it is let go.
 *
 * <p>Which kind a child is, is found by writing one original byte into the child's
 * memory and reading it back through the parent: the parent sees it only if they share.
 */
final class ForkedChildren implements ForkHandler {
  /** The backend's view: the planted probes, and how to answer a hit. */
  interface Probes {
    Map<Long, Byte> originals();

    boolean answer(int tid);
  }

  private final Target parent;
  private final Probes probes;
  private final Map<Integer, Boolean> sharing = new HashMap<>();

  ForkedChildren(Target parent, Probes probes) {
    this.parent = parent;
    this.probes = probes;
  }

  @Override
  public void onChildStatus(int pid, int rawStatus) {
    WaitStatus st = new WaitStatus(rawStatus);
    if (st.terminated()) {
      sharing.remove(pid);
      return;
    }
    try {
      Boolean shares = sharing.get(pid);
      if (shares == null) first(pid);
      else if (st.event() == Ptrace.EVENT_EXEC) letGo(pid);
      else if (st.event() == 0 && st.stopSignal() == Signals.SIGTRAP && probes.answer(pid)) Ptrace.cont(pid, 0);
      else Ptrace.cont(pid, st.event() == 0 ? st.stopSignal() : 0);
    } catch (SyscallException e) {
      if (e.errno() != Errno.ESRCH) throw e;
      sharing.remove(pid); // killed meanwhile
    }
  }

  /** A new child's first stop: clean and free a copy, keep answering a sharer. */
  private void first(int pid) {
    boolean shares = sharesMemory(pid);
    if (!shares) {
      restoreAll(pid);
      Ptrace.detach(pid, 0);
      return;
    }
    sharing.put(pid, true);
    Ptrace.cont(pid, 0);
  }

  private void letGo(int pid) {
    sharing.remove(pid);
    Ptrace.detach(pid, 0);
  }

  private boolean sharesMemory(int pid) {
    Map<Long, Byte> originals = probes.originals();
    if (originals.isEmpty()) return false; // nothing planted: nothing to clean either way
    Map.Entry<Long, Byte> probe = originals.entrySet().iterator().next();
    long at = probe.getKey();
    writeChild(pid, at, probe.getValue());
    boolean shared = parent.read(at, 1)[0] == probe.getValue();
    if (shared) parent.write(at, new byte[] {(byte) 0xcc});
    return shared;
  }

  /** True while a vfork child we answer for has not exec'd or exited yet. */
  boolean anySharing() {
    return !sharing.isEmpty();
  }

  private void restoreAll(int pid) {
    writeChild(pid, probes.originals());
  }

  private static void writeChild(int pid, long at, byte value) {
    writeChild(pid, Map.of(at, value));
  }

  private static void writeChild(int pid, Map<Long, Byte> bytes) {
    try (FileChannel mem = FileChannel.open(Path.of("/proc", Integer.toString(pid), "mem"),
        StandardOpenOption.WRITE)) {
      for (Map.Entry<Long, Byte> e : bytes.entrySet()) {
        mem.write(ByteBuffer.wrap(new byte[] {e.getValue()}), e.getKey());
      }
    } catch (IOException e) {
      throw new SyscallException("write /proc/" + pid + "/mem", pid, Errno.ESRCH,
          "cannot clean the breakpoints out of forked child " + pid + ": " + e.getMessage());
    }
  }
}
