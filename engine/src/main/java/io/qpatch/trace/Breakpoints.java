package io.qpatch.trace;

import io.qpatch.arch.x86_64.Decoder;
import io.qpatch.arch.x86_64.Instruction;
import io.qpatch.error.RefusedException;
import io.qpatch.error.SyscallException;
import io.qpatch.proc.Mapping;
import io.qpatch.proc.Target;
import io.qpatch.proc.ThreadInfo;
import io.qpatch.proc.Tracer;
import io.qpatch.sys.Errno;
import io.qpatch.sys.Mman;
import io.qpatch.sys.Ptrace;
import io.qpatch.sys.Registers;
import io.qpatch.sys.Signals;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * int3 breakpoints in one target, each answered on the tracer thread in a single stop:
 * the owner's {@link Action} sees the stopped thread's registers, then the instruction the
 * int3 hides is carried out ({@link Displaced}: emulated, or run out of line from a
 * trampoline). Never a single step (a second stop, ~14 us here). The ptrace trace backend
 * plants one per probe; the facade's scripted breakpoints ({@code onCall}) plant them at
 * function entries and, one-shot, at return addresses.
 *
 * <p>A breakpoint may be planted and taken out while the target runs: the write is one
 * byte, so a thread executes either the int3 or the original instruction. A thread that
 * executed an int3 just before it was taken out traps at an address no longer planted; the
 * address is remembered (retired) and the thread put back on the restored instruction.
 * {@link #removeAll} restores every byte with the world stopped and, when a thread still
 * has the SIGTRAP of a hit pending (the stop for the interrupt came first), lets the
 * threads run until the stop handler has taken it: only then is the target safe to let go.
 *
 * <p>Every method does its work on the tracer thread, where hits are handled, so the
 * table of breakpoints is only ever touched by one thread.
 */
public final class Breakpoints {
  private static final byte INT3 = (byte) 0xcc;
  /** Bit of SIGTRAP in /proc/PID/task/TID/status "SigPnd" (bit signal - 1). */
  private static final long SIGTRAP_BIT = 1L << (Signals.SIGTRAP - 1);
  /** Trampoline slots in an area mapped for breakpoints planted one at a time. */
  private static final int AREA_SLOTS = 256;

  /** What a hit does; runs on the tracer thread while the hitting thread is stopped. */
  @FunctionalInterface
  public interface Action {
    /**
     * @param regs the thread's registers with rip on the breakpoint; changes are written back
     * @return true to carry out the instruction under the int3 next; false when the action
     *     moved the thread itself (say, made the function return at once)
     */
    boolean hit(int tid, Registers regs);
  }

  private record Planted(Displaced how, byte original, Action action) {}

  private final Target target;
  private final Tracer tracer = Tracer.get();
  private final Map<Long, Planted> planted = new HashMap<>();
  private final Set<Long> retired = new HashSet<>();
  private final List<OutOfLineArea> areas = new ArrayList<>();
  /** How each address's instruction is carried out: worked out (and a slot used) once. */
  private final Map<Long, Displaced> howAt = new HashMap<>();
  /** Files near which an area was mapped by {@link #reserveNear}. */
  private final Set<String> areaFiles = new HashSet<>();
  private final MemorySegment regsBuffer = Arena.ofAuto().allocate(Registers.LAYOUT);
  private final ProcessMemory memory;
  private ForkedChildren children;
  private boolean quiet;

  public Breakpoints(Target target) {
    this.target = target;
    this.memory = new ProcessMemory(target.pid(), target);
  }

  /**
   * Starts answering hits (the target's stop handler) and, with {@code followForks}, cleans
   * or answers for the processes the target forks ({@link ForkedChildren}; their events are
   * seen by {@link Target#serveEvents} and, between serves, by the tracer's idle loop). The
   * target must be stopped.
   */
  public void start(boolean followForks) {
    tracer.run(() -> {
      target.setStopHandler(this::onSignalStop);
      if (!followForks) return;
      children = new ForkedChildren(target, new ForkedChildren.Probes() {
        @Override
        public Map<Long, Byte> originals() {
          Map<Long, Byte> out = new HashMap<>();
          for (Map.Entry<Long, Planted> e : planted.entrySet()) out.put(e.getKey(), e.getValue().original());
          return out;
        }

        @Override
        public boolean answer(int tid) {
          return answerQuietly(tid);
        }
      });
      target.followForks(children);
    });
  }

  /**
   * Plants a breakpoint on the instruction at {@code address}, carried out by emulation
   * when it is one of the forms {@link Emulation} knows, else from a trampoline. With
   * {@code mayMap} (the target is stopped) a trampoline area is mapped near the code when
   * none has room or reach; without, only areas mapped before are used.
   *
   * @throws RefusedException naming the address when it holds an int3 or a breakpoint
   *     already, or its instruction can be neither emulated nor relocated
   */
  public void plant(long address, boolean mayMap, Action action) {
    tracer.run(() -> {
      Displaced how = howAt.get(address);
      if (how == null) {
        how = displacedAt(address, mayMap);
        howAt.put(address, how);
      }
      plant(address, how, action);
    });
  }

  /** Plants a breakpoint carried out as {@code how}; on the tracer thread or with the world stopped. */
  void plant(long address, Displaced how, Action action) {
    if (planted.containsKey(address)) throw refused(address, "a breakpoint is already there");
    byte original = target.read(address, 1)[0];
    if (original == INT3) throw refused(address, "an int3 is already there (another debugger?)");
    planted.put(address, new Planted(how, original, action));
    retired.remove(address);
    target.write(address, new byte[] {INT3});
  }

  /**
   * Maps an area of trampolines near the mapping of {@code file} (a module's path), unless
   * one was mapped there already: breakpoints planted later without {@code mayMap} (from
   * inside an action, say) can then carry out instructions that must run out of line. The
   * target must be stopped.
   */
  public void reserveNear(String file) {
    tracer.run(() -> {
      if (areaFiles.add(file)) areas.add(OutOfLineArea.reserve(target, file, AREA_SLOTS));
    });
  }

  /** Adds an area of trampolines the breakpoints use; released by {@link #removeAll}. */
  void adopt(OutOfLineArea area) {
    areas.add(area);
  }

  /**
   * Takes the breakpoint at {@code address} out, restoring its byte; a no-op when none is
   * there. Allowed while the target runs and from inside an {@link Action}.
   */
  public void unplant(long address) {
    tracer.run(() -> {
      Planted p = planted.remove(address);
      if (p == null) return;
      retired.add(address);
      if (target.read(address, 1)[0] == INT3) target.write(address, new byte[] {p.original()});
    });
  }

  public boolean isPlanted(long address) {
    return tracer.call(() -> planted.containsKey(address));
  }

  /** How many breakpoints are planted. */
  public int size() {
    return tracer.call(planted::size);
  }

  // ---- how a displaced instruction is carried out -----------------------------------

  private Displaced displacedAt(long address, boolean mayMap) {
    Instruction insn = decodeAt(address);
    if (insn.isInt3()) throw refused(address, "an int3 is already there (another debugger?)");
    Displaced how = Emulation.emulated(insn);
    if (how != null) return how;
    if (insn.isCall()) throw refused(address, "an indirect call through memory cannot be moved");
    return new Displaced.OutOfLine(trampoline(insn, mayMap));
  }

  private Instruction decodeAt(long address) {
    byte[] code;
    try {
      code = target.read(address, Decoder.MAX_INSTRUCTION_LENGTH);
    } catch (RuntimeException e) {
      code = target.read(address, (int) (Mman.PAGE - (address & (Mman.PAGE - 1)))); // the next page is unmapped
    }
    return Decoder.shared().decode(code, address)
        .orElseThrow(() -> refused(address, "the instruction there does not decode"));
  }

  private long trampoline(Instruction insn, boolean mayMap) {
    String why = "no trampoline area within reach";
    for (OutOfLineArea area : areas) {
      try {
        return area.add(insn.bytes(), insn.address());
      } catch (RefusedException e) {
        why = e.getMessage();
      }
    }
    String file = fileAt(insn.address());
    if (!mayMap || areaFiles.contains(file)) throw refused(insn.address(), why);
    reserveNear(file);
    return areas.getLast().add(insn.bytes(), insn.address());
  }

  /** The file mapped at {@code address} (the area goes near it), or "" for none. */
  private String fileAt(long address) {
    for (Mapping m : target.maps()) if (m.contains(address)) return m.path();
    return "";
  }

  private static RefusedException refused(long address, String why) {
    return new RefusedException("cannot plant a breakpoint at 0x" + Long.toHexString(address) + ": " + why);
  }

  // ---- the hot path: on the tracer thread, the hitting thread stopped ----------------

  private boolean onSignalStop(int tid, int signal) {
    if (signal != Signals.SIGTRAP) return false;
    try {
      return onTrap(tid);
    } catch (SyscallException e) {
      if (e.errno() != Errno.ESRCH) throw e;
      return true; // killed at the breakpoint (exit_group): the trap is moot
    } catch (IllegalStateException e) { // its memory could not be read to carry the instruction out
      if (!exiting()) throw e;
      return true; // the process is exiting (its leader is gone): the thread will not run on
    }
  }

  /** The process's leader has exited (exit_group reaps the rest): /proc says Z or X, or nothing. */
  private boolean exiting() {
    return Target.hasExited(target.pid());
  }

  private boolean onTrap(int tid) {
    Ptrace.getRegs(tid, regsBuffer);
    Registers regs = Registers.read(regsBuffer);
    long at = regs.rip() - 1;
    Planted p = planted.get(at);
    if (p == null) {
      if (!retired.contains(at)) return false;
      regs.rip(at); // taken out since: run the restored instruction
    } else {
      regs.rip(at);
      // An action that took its own breakpoint out leaves the original byte to run in place.
      if (act(p, tid, regs) && planted.get(at) == p) p.how().execute(regs, memory);
    }
    regs.write(regsBuffer);
    Ptrace.setRegs(tid, regsBuffer);
    return true;
  }

  /** Runs the action; a failing one must not leave the thread on the int3, so it is reported here. */
  private boolean act(Planted p, int tid, Registers regs) {
    if (quiet) return true;
    try {
      return p.action().hit(tid, regs);
    } catch (RuntimeException e) {
      io.qpatch.error.Warnings.warn("breakpoint at 0x" + Long.toHexString(regs.rip()) + ": " + e);
      return true;
    }
  }

  /** A vfork child's hit: carried out like the parent's, its action not run (it is not the target). */
  private boolean answerQuietly(int tid) {
    quiet = true;
    try {
      return onSignalStop(tid, Signals.SIGTRAP);
    } finally {
      quiet = false;
    }
  }

  // ---- removal ------------------------------------------------------------------------

  /**
   * Takes every breakpoint out with the world stopped, stops following forks, waits until
   * no hit is left pending, and unmaps the trampoline areas. The target must be alive.
   */
  public void removeAll() {
    tracer.run(this::removeAllHere);
  }

  @SuppressWarnings("try") // the stop is held for the body and released by close()
  private void removeAllHere() {
    boolean trapsPending;
    try (Target.Stopped stopped = target.stop()) {
      if (children != null) target.followForks(null);
      for (Map.Entry<Long, Planted> e : planted.entrySet()) {
        // Only our int3 is put back: after an exec the address holds the new program's code.
        if (target.read(e.getKey(), 1)[0] == INT3) target.write(e.getKey(), new byte[] {e.getValue().original()});
      }
      retired.addAll(planted.keySet());
      planted.clear();
      trapsPending = anyTrapPending();
      if (!trapsPending) releaseAreas();
    }
    if (trapsPending) flushPendingTraps();
    if (children != null && children.anySharing()) serveBriefly(children::anySharing);
  }

  /**
   * Serves events while {@code busy} (at most 2 s): a vfork child still attached must be
   * answered until it execs, or it would wait for us forever.
   */
  private void serveBriefly(BooleanSupplier busy) {
    serve(target, 2_000_000_000L, () -> !busy.getAsBoolean());
  }

  /**
   * Answers {@code target}'s events at once (a blocking loop on the tracer thread, see
   * {@link Target#serveEvents}) until {@code done}, for at most {@code nanos}, or until the
   * process is gone.
   */
  public static void serve(Target target, long nanos, BooleanSupplier done) {
    long deadline = System.nanoTime() + nanos;
    Thread timer = Thread.ofPlatform().daemon().name("qpatch-serve-timer").start(() -> {
      long left;
      while ((left = deadline - System.nanoTime()) > 0 && !Thread.currentThread().isInterrupted()) {
        LockSupport.parkNanos(left);
      }
      target.wakeEvents();
    });
    try {
      target.serveEvents(() -> done.getAsBoolean() || System.nanoTime() - deadline >= 0);
    } finally {
      timer.interrupt();
    }
  }

  /**
   * Lets the threads run (the int3s are gone) until no SIGTRAP of ours is pending: the stop
   * handler takes each and rewinds the thread onto the restored instruction.
   */
  @SuppressWarnings("try") // the stop is held for the body and released by close()
  private void flushPendingTraps() {
    serveBriefly(this::anyTrapPendingQuietly);
    try (Target.Stopped stopped = target.stop()) {
      releaseAreas();
    }
  }

  private void releaseAreas() {
    if (areas.isEmpty()) return;
    List<Long> pcs = new ArrayList<>();
    for (ThreadInfo t : target.threads()) pcs.add(t.pc());
    for (OutOfLineArea area : areas) area.release(pcs);
    areas.clear();
    areaFiles.clear();
    howAt.clear();
  }

  private boolean anyTrapPendingQuietly() {
    try {
      return anyTrapPending();
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** True when a thread has SIGTRAP in its private pending set (/proc/PID/task/TID/status). */
  private boolean anyTrapPending() {
    for (int tid : target.threadIds()) {
      Path status = Path.of("/proc", Integer.toString(target.pid()), "task", Integer.toString(tid), "status");
      try {
        for (String line : Files.readAllLines(status)) {
          if (line.startsWith("SigPnd:")
              && (Long.parseUnsignedLong(line.substring(7).trim(), 16) & SIGTRAP_BIT) != 0) {
            return true;
          }
        }
      } catch (IOException | NumberFormatException e) {
        // the thread is gone
      }
    }
    return false;
  }
}
