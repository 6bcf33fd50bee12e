package io.qpatch.trace;

import io.qpatch.arch.x86_64.Decoder;
import io.qpatch.arch.x86_64.Relocator;
import io.qpatch.arch.x86_64.X86Writer;
import io.qpatch.error.QpatchException;
import io.qpatch.error.RefusedException;
import io.qpatch.error.SyscallException;
import io.qpatch.link.Placement;
import io.qpatch.proc.Mapping;
import io.qpatch.proc.Target;
import io.qpatch.sys.Errno;
import io.qpatch.sys.Mman;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trampolines in the target for probed instructions the ptrace backend does not emulate:
 * each is the instruction relocated (RIP-relative operands and branches fixed up by
 * {@link Relocator}) followed by a jump back. A hit sets rip to the trampoline and the
 * thread runs the instruction natively: no single step, no second stop (uprobes'
 * execute-out-of-line, without the trap after it).
 *
 * <p>The area is one anonymous R-X mapping placed near the executable (or the module
 * whose code it serves), within rel32 reach of its code and data, written through
 * {@code /proc/PID/mem}: all at once for a trace's probes ({@link #place}), or slot by slot
 * as scripted breakpoints need them ({@link #reserve}, {@link #add}). It is unmapped when
 * the breakpoints go, unless a thread is still inside it (then it stays, harmlessly).
 */
final class OutOfLineArea {
  /** Room per trampoline: a relocated instruction (<= 15 bytes, rewritten forms longer) and a jump back. */
  private static final int SLOT = 48;

  private static final int PROT_READ_EXEC = Mman.PROT_READ | Mman.PROT_EXEC;
  private static final int ANYWHERE = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS;

  private final Target target;
  private final long start;
  private final long size;
  private final Relocator relocator = new Relocator(Decoder.shared());
  private int used;

  private OutOfLineArea(Target target, long start, long size) {
    this.target = target;
    this.start = start;
    this.size = size;
  }

  /**
   * Maps an area for {@code sites} near the executable and writes their trampolines;
   * returns each site's trampoline address, and puts the sites that cannot be relocated
   * into {@code refused}. The target must be stopped.
   */
  static OutOfLineArea place(
      Target target, String executable, List<ProbeSite> sites, Map<ProbeSite, Long> placed,
      Map<ProbeSite, String> refused) {
    OutOfLineArea area = reserve(target, executable, sites.size());
    for (ProbeSite site : sites) {
      Displaced.Relocated r = (Displaced.Relocated) site.displaced();
      try {
        placed.put(site, area.add(r.function(), r.functionAddress()));
      } catch (QpatchException e) {
        refused.put(site, e.getMessage());
      }
    }
    return area;
  }

  /**
   * Maps an empty area with room for {@code slots} trampolines within rel32 reach of every
   * mapping of file {@code near} ({@link Placement#mapNear}; anywhere when it has none). The
   * target must be stopped: the mmap is a remote system call.
   */
  static OutOfLineArea reserve(Target target, String near, int slots) {
    long size = Mman.pages((long) slots * SLOT);
    List<Mapping> maps = target.maps();
    long low = Long.MAX_VALUE, high = 0;
    for (Mapping m : maps) {
      if (m.path().equals(near) || m.filePath().equals(near)) {
        low = Math.min(low, m.start());
        high = Math.max(high, m.end());
      }
    }
    if (low == Long.MAX_VALUE) return new OutOfLineArea(target, target.mmap(0, size, PROT_READ_EXEC, ANYWHERE, -1, 0), size);
    long start = Placement.mapNear(maps, low, high, size, base -> mapAt(target, base, size),
        target.pid(), "out-of-line trampolines");
    return new OutOfLineArea(target, start, size);
  }

  /** An anonymous r-x mapping at exactly {@code base}; false when the range was taken. */
  private static boolean mapAt(Target target, long base, long size) {
    try {
      long at = target.mmap(base, size, PROT_READ_EXEC, ANYWHERE | Mman.MAP_FIXED_NOREPLACE, -1, 0);
      if (at == base) return true;
      target.munmap(at, size);  // a kernel before 4.17 took the address as a hint
      return false;
    } catch (SyscallException e) {
      if (e.errno() == Errno.EEXIST) return false;
      throw e;
    }
  }

  /**
   * Writes the trampoline for the first instruction of {@code code} (which sits at {@code
   * address}) into the next free slot and returns the slot's address. The target may run:
   * no thread can be in a slot not handed out yet.
   *
   * @throws RefusedException when the instruction cannot be relocated, or the area is full
   */
  long add(byte[] code, long address) {
    if ((long) (used + 1) * SLOT > size) throw new RefusedException("no trampoline slot left");
    long slot = start + (long) used * SLOT;
    X86Writer one = new X86Writer(slot);
    relocator.relocate(code, address, 1, one);
    if (one.offset() > SLOT) throw new RefusedException("its relocated form is too long");
    target.write(slot, one.bytes());
    used++;
    return slot;
  }

  boolean contains(long pc) {
    return pc >= start && pc < start + size;
  }

  /** Unmaps the area unless a thread's pc lies in it. The target must be stopped. */
  void release(List<Long> threadPcs) {
    for (long pc : threadPcs) if (contains(pc)) return;
    target.munmap(start, size);
  }

  static Map<ProbeSite, Long> newPlacement() {
    return new LinkedHashMap<>();
  }

  static List<ProbeSite> relocatedSites(List<ProbeSite> sites) {
    List<ProbeSite> out = new ArrayList<>();
    for (ProbeSite s : sites) if (s.displaced() instanceof Displaced.Relocated) out.add(s);
    return out;
  }
}
