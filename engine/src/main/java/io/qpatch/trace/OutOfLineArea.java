package io.qpatch.trace;

import io.qpatch.arch.x86_64.Decoder;
import io.qpatch.arch.x86_64.Relocator;
import io.qpatch.arch.x86_64.X86Writer;
import io.qpatch.error.QpatchException;
import io.qpatch.error.RefusedException;
import io.qpatch.proc.Mapping;
import io.qpatch.proc.Target;
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
 * <p>The area is one anonymous R-X mapping placed just below the executable (or the
 * module whose code it serves), within rel32 reach of its code and data, written through
 * {@code /proc/PID/mem}: all at once for a trace's probes ({@link #place}), or slot by slot
 * as scripted breakpoints need them ({@link #reserve}, {@link #add}). It is unmapped when
 * the breakpoints go, unless a thread is still inside it (then it stays, harmlessly).
 */
final class OutOfLineArea {
  /** Room per trampoline: a relocated instruction (<= 15 bytes, rewritten forms longer) and a jump back. */
  private static final int SLOT = 48;

  private static final long PAGE = 4096;
  private static final int PROT_READ_EXEC = 0x1 | 0x4;
  /** MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE (linux/mman.h). */
  private static final int FLAGS = 0x02 | 0x20 | 0x100000;

  private static final int ANYWHERE = 0x02 | 0x20;
  /** The lowest address we consider (vm.mmap_min_addr is 64 KiB by default). */
  private static final long LOWEST = 0x100000;

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
   * Maps an empty area with room for {@code slots} trampolines, just below the mapping of
   * file {@code near} (anywhere when it has none). The target must be stopped: the mmap
   * is a remote system call.
   */
  static OutOfLineArea reserve(Target target, String near, int slots) {
    long size = ((long) slots * SLOT + PAGE - 1) / PAGE * PAGE;
    long hint = below(target.maps(), near, size);
    long start;
    try {
      start = target.mmap(hint, size, PROT_READ_EXEC, hint == 0 ? ANYWHERE : FLAGS, -1, 0);
    } catch (io.qpatch.error.SyscallException e) {
      start = target.mmap(0, size, PROT_READ_EXEC, ANYWHERE, -1, 0); // raced: anywhere will do
    }
    return new OutOfLineArea(target, start, size);
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

  /** A free page-aligned range of {@code size} bytes right below the executable's lowest mapping. */
  private static long below(List<Mapping> maps, String executable, long size) {
    long low = Long.MAX_VALUE;
    for (Mapping m : maps) {
      if (m.path().equals(executable) || m.filePath().equals(executable)) low = Math.min(low, m.start());
    }
    if (low == Long.MAX_VALUE) return 0;
    long candidate = (low - size - 16 * PAGE) & ~(PAGE - 1);
    if (candidate < LOWEST) return 0;
    for (Mapping m : maps) {
      if (Long.compareUnsigned(m.start(), candidate + size) < 0
          && Long.compareUnsigned(m.end(), candidate) > 0) {
        return 0;
      }
    }
    return candidate;
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
