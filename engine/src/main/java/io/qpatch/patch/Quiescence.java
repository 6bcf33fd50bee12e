package io.qpatch.patch;

import io.qpatch.error.SyscallException;
import io.qpatch.proc.Mapping;
import io.qpatch.proc.Target;
import io.qpatch.sys.Reg;
import io.qpatch.sys.Registers;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Checks on a stopped target that no thread is where a change would hurt it.
 *
 * <ul>
 *   <li>{@link #pcIn}: no thread's pc inside bytes about to be replaced. A thread stopped in
 *       an interrupted system call restarts it at pc - 2 (the kernel rewinds over the
 *       {@code syscall} instruction, arch/x86/kernel/signal.c), so that address is checked too.
 *   <li>{@link #referencing}: before memory is unmapped, no thread's pc, general register
 *       or stack word points into it. Stacks are scanned conservatively from the stack
 *       pointer to the end of its mapping (at most {@link #MAX_STACK_SCAN} bytes): every
 *       return address into patch code is found, along with the odd stale value, which
 *       only delays the unmapping.
 * </ul>
 *
 * <p>{@link #pcIn} runs with every thread stopped: it guards a change all threads must see
 * at once. {@link #referencing} holds one thread at a time, the others running: it is asked
 * only about memory nothing can enter any more (the patch was switched back, or never
 * active: no entry jump leads there), so a thread found outside it stays outside, and
 * checking each in turn answers as a check of all at one instant would. Threads created
 * meanwhile are checked too.
 */
final class Quiescence {
  /** 1 MiB of stack per thread: deeper recursion than that is not scanned past. */
  static final int MAX_STACK_SCAN = 1 << 20;

  /** A thread found where it must not be. */
  record Busy(int tid, String threadName, long address, String where) {
    String describe() {
      return "thread " + tid + " (" + threadName + ") " + where;
    }
  }

  /** A range [start, end) with what it is, for messages. */
  record Range(long start, long end, String what) {
    boolean contains(long a) {
      return Long.compareUnsigned(a, start) >= 0 && Long.compareUnsigned(a, end) < 0;
    }
  }

  private final Target target;

  Quiescence(Target target) {
    this.target = target;
  }

  /**
   * The first thread whose pc (or syscall restart address) is in one of {@code ranges}; the
   * target is stopped. Only registers are read for each thread (a thread's name only for the
   * message): this runs inside the switch's stop. pc - 2 counts when the two bytes before pc
   * are a {@code syscall} instruction (0f 05) the thread may be restarted at.
   */
  Optional<Busy> pcIn(List<Range> ranges) {
    if (ranges.isEmpty()) return Optional.empty();
    for (int tid : target.threadIds()) {
      long pc = target.registers(tid).rip();
      for (Range r : ranges) {
        if (r.contains(pc) || (r.contains(pc - 2) && isSyscallAt(pc - 2))) {
          return Optional.of(new Busy(tid, threadName(tid), pc,
              String.format("is executing at 0x%x, inside %s", pc, r.what())));
        }
      }
    }
    return Optional.empty();
  }

  private boolean isSyscallAt(long address) {
    try {
      byte[] b = target.read(address, 2);
      return b[0] == 0x0f && b[1] == 0x05;
    } catch (SyscallException e) {
      return false;
    }
  }

  /** The first thread whose pc, registers or stack point into one of {@code ranges}. */
  Optional<Busy> referencing(List<Range> ranges, List<Mapping> maps) {
    if (ranges.isEmpty()) return Optional.empty();
    Set<Integer> checked = new HashSet<>();
    while (true) {
      List<Integer> fresh = target.threadIds().stream().filter(t -> !checked.contains(t)).toList();
      if (fresh.isEmpty()) return Optional.empty();
      for (int tid : fresh) {
        Optional<Busy> found = target.whileHeld(tid, () -> inThread(tid, ranges, maps))
            .orElse(Optional.empty()); // exited: uses nothing any more
        if (found.isPresent()) return found;
        checked.add(tid);
      }
    }
  }

  /** With thread {@code tid} held: its registers, then its stack. */
  private Optional<Busy> inThread(int tid, List<Range> ranges, List<Mapping> maps) {
    Registers regs = target.registers(tid);
    Optional<Busy> found = inRegisters(tid, regs, ranges);
    return found.isPresent() ? found : onStack(tid, regs.rsp(), maps, ranges);
  }

  private Optional<Busy> inRegisters(int tid, Registers regs, List<Range> ranges) {
    for (long pc : executionPoints(regs)) {
      for (Range r : ranges) {
        if (r.contains(pc)) {
          return Optional.of(new Busy(tid, threadName(tid), pc,
              String.format("is executing at 0x%x in %s", pc, r.what())));
        }
      }
    }
    for (Reg reg : Reg.values()) {
      if (reg == Reg.RIP || reg == Reg.ORIG_RAX) continue;
      long v = regs.get(reg);
      for (Range r : ranges) {
        if (r.contains(v)) {
          return Optional.of(new Busy(tid, threadName(tid), v, String.format(
              "holds 0x%x (in %s) in register %s", v, r.what(), reg.field())));
        }
      }
    }
    return Optional.empty();
  }

  private Optional<Busy> onStack(int tid, long rsp, List<Mapping> maps, List<Range> ranges) {
    Mapping stack = maps.stream().filter(m -> m.contains(rsp)).findFirst().orElse(null);
    if (stack == null) return Optional.empty();
    long start = rsp & ~7L;
    int length = (int) Math.min(MAX_STACK_SCAN, stack.end() - start);
    ByteBuffer words;
    try {
      words = ByteBuffer.wrap(target.read(start, length)).order(ByteOrder.LITTLE_ENDIAN);
    } catch (SyscallException e) {
      return Optional.empty(); // the thread's stack vanished: it is exiting
    }
    for (int i = 0; i + 8 <= length; i += 8) {
      long v = words.getLong(i);
      for (Range r : ranges) {
        if (r.contains(v)) {
          return Optional.of(new Busy(tid, threadName(tid), v, String.format(
              "has 0x%x, an address in %s, on its stack: a call into it has not returned",
              v, r.what())));
        }
      }
    }
    return Optional.empty();
  }

  /** pc, and pc - 2 when the thread sits in a system call it will restart. */
  private static long[] executionPoints(Registers regs) {
    long pc = regs.rip();
    return regs.origRax() >= 0 ? new long[] {pc, pc - 2} : new long[] {pc};
  }

  private String threadName(int tid) {
    try {
      return Files.readString(Path.of("/proc", "" + target.pid(), "task", "" + tid, "comm")).strip();
    } catch (IOException e) {
      return "?";
    }
  }
}
