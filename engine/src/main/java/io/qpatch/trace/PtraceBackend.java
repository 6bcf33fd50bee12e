package io.qpatch.trace;

import io.qpatch.error.SyscallException;
import io.qpatch.proc.Target;
import io.qpatch.proc.ThreadInfo;
import io.qpatch.sys.Errno;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Probes as int3 breakpoints in the target's code, answered by the tracer thread in a
 * blocking event loop. A hit costs one stop: read the registers, carry out the displaced
 * instruction ({@link Displaced}: emulated, or run out of line), write the registers,
 * continue. Never a single step, and nothing is written to the target but the int3
 * bytes and, for instructions that are not emulated, a trampoline area.
 *
 * <p>Removal restores every byte with the world stopped. A thread that executed an int3
 * but whose SIGTRAP is still pending (the stop for the interrupt came first) is let run
 * until the stop handler has taken that SIGTRAP and put the thread back on the restored
 * instruction; only then is the target safe to let go.
 */
public final class PtraceBackend implements Backend {
  private static final byte INT3 = (byte) 0xcc;
  /** Bit of SIGTRAP in /proc/PID/task/TID/status "SigPnd" (bit signal - 1). */
  private static final long SIGTRAP_BIT = 1L << (Signals.SIGTRAP - 1);

  private final Target target;
  private final Map<Long, Active> active = new HashMap<>();
  private final Set<Long> retired = new HashSet<>();
  private final MemorySegment regsBuffer = Arena.ofAuto().allocate(Registers.LAYOUT);
  private final ProcessMemory memory;
  private HitConsumer consumer;
  private ForkedChildren children;
  private OutOfLineArea area;
  private volatile boolean stopRequested;
  private long hits;
  private long skippedTaken;

  /** A planted breakpoint: the site, how its instruction is carried out, the byte it hides. */
  private record Active(ProbeSite site, Displaced how, byte original) {}

  public PtraceBackend(Target target) {
    this.target = target;
    this.memory = new ProcessMemory(target.pid(), target);
  }

  @Override
  public String name() {
    return "ptrace";
  }

  @Override
  @SuppressWarnings("try") // the stop is held for the body and released by close()
  public Map<ProbeSite, String> install(ProbePlan plan, HitConsumer consumer) {
    this.consumer = consumer;
    Map<ProbeSite, String> refused = new LinkedHashMap<>();
    try (Target.Stopped stopped = target.stop()) {
      Map<ProbeSite, Long> trampolines = placeOutOfLine(plan, refused);
      for (ProbeSite site : plan.sites()) {
        if (refused.containsKey(site) || active.containsKey(site.address())) continue;
        byte original = target.read(site.address(), 1)[0];
        if (original == INT3) {
          refused.put(site, "an int3 is already there (another debugger?)");
          continue;
        }
        Displaced how = site.displaced() instanceof Displaced.Relocated
            ? new Displaced.OutOfLine(trampolines.get(site)) : site.displaced();
        active.put(site.address(), new Active(site, how, original));
      }
      target.setStopHandler(this::onSignalStop);
      children = new ForkedChildren(target, new ForkedChildren.Probes() {
        @Override
        public Map<Long, Byte> originals() {
          Map<Long, Byte> out = new HashMap<>();
          for (Map.Entry<Long, Active> e : active.entrySet()) out.put(e.getKey(), e.getValue().original());
          return out;
        }

        @Override
        public boolean answer(int tid) {
          return onTrapQuietly(tid);
        }
      });
      if (!active.isEmpty()) target.followForks(children);
      for (long address : active.keySet()) target.write(address, new byte[] {INT3});
    }
    return refused;
  }

  /** A vfork child's hit: carried out like the parent's, not reported (it is not the target). */
  private boolean onTrapQuietly(int tid) {
    HitConsumer saved = consumer;
    consumer = (site, t, time, regs) -> {};
    try {
      return onSignalStop(tid, Signals.SIGTRAP);
    } finally {
      consumer = saved;
    }
  }

  private Map<ProbeSite, Long> placeOutOfLine(ProbePlan plan, Map<ProbeSite, String> refused) {
    Map<ProbeSite, Long> placed = OutOfLineArea.newPlacement();
    List<ProbeSite> relocated = OutOfLineArea.relocatedSites(plan.sites());
    if (!relocated.isEmpty()) {
      area = OutOfLineArea.place(target, plan.executable(), relocated, placed, refused);
    }
    return placed;
  }

  @Override
  public void run() {
    target.serveEvents(() -> stopRequested);
  }

  @Override
  public void requestStop() {
    stopRequested = true;
    target.wakeEvents();
  }

  // ---- the hot path: runs on the tracer thread, the hitting thread stopped ----------

  private boolean onSignalStop(int tid, int signal) {
    if (signal != Signals.SIGTRAP) return false;
    try {
      return onTrap(tid);
    } catch (SyscallException e) {
      if (!isGone(e)) throw e;
      return true; // killed at the breakpoint (exit_group): the trap is moot
    }
  }

  private boolean onTrap(int tid) {
    Ptrace.getRegs(tid, regsBuffer);
    Registers regs = Registers.read(regsBuffer);
    long at = regs.rip() - 1;
    Active a = active.get(at);
    if (a == null) return retired.contains(at) && rewind(tid, regs, at);
    long now = System.nanoTime();
    regs.rip(at);
    long[] sample = SampleRegs.of(regs);
    a.how().execute(regs, memory);
    regs.write(regsBuffer);
    Ptrace.setRegs(tid, regsBuffer);
    if (a.site().counts(sample[SampleRegs.FLAGS])) {
      hits++;
      consumer.hit(a.site(), tid, now, sample);
    } else {
      skippedTaken++;
    }
    return true;
  }

  /** A trap from a breakpoint already removed: run the restored instruction instead. */
  private boolean rewind(int tid, Registers regs, long at) {
    regs.rip(at).write(regsBuffer);
    Ptrace.setRegs(tid, regsBuffer);
    return true;
  }

  // ---- removal ------------------------------------------------------------------------

  @Override
  @SuppressWarnings("try") // the stop is held for the body and released by close()
  public void remove() {
    boolean trapsPending;
    try (Target.Stopped stopped = target.stop()) {
      if (children != null) target.followForks(null);
      for (Map.Entry<Long, Active> e : active.entrySet()) {
        // Only our int3 is put back: after an exec the address holds the new program's code.
        if (target.read(e.getKey(), 1)[0] == INT3) target.write(e.getKey(), new byte[] {e.getValue().original()});
      }
      retired.addAll(active.keySet());
      active.clear();
      trapsPending = anyTrapPending();
      if (!trapsPending) releaseArea();
    }
    if (trapsPending) flushPendingTraps();
    if (children != null && children.anySharing()) serveBriefly(children::anySharing);
  }

  /**
   * Serves events while {@code busy} (at most 2 s): a vfork child still attached must be
   * answered until it execs, or it would wait for us forever.
   */
  private void serveBriefly(java.util.function.BooleanSupplier busy) {
    long deadline = System.nanoTime() + 2_000_000_000L;
    Thread timer = Thread.ofPlatform().daemon().start(() -> {
      java.util.concurrent.locks.LockSupport.parkNanos(2_000_000_000L);
      target.wakeEvents();
    });
    target.serveEvents(() -> !busy.getAsBoolean() || System.nanoTime() > deadline);
    timer.interrupt();
  }

  /**
   * Lets the threads run (probes are gone) until no SIGTRAP of ours is pending: the stop
   * handler takes each and rewinds the thread onto the restored instruction.
   */
  @SuppressWarnings("try") // the stop is held for the body and released by close()
  private void flushPendingTraps() {
    serveBriefly(this::anyTrapPendingQuietly);
    try (Target.Stopped stopped = target.stop()) {
      releaseArea();
    }
  }

  private void releaseArea() {
    if (area == null) return;
    List<Long> pcs = new ArrayList<>();
    for (ThreadInfo t : target.threads()) pcs.add(t.pc());
    area.release(pcs);
    area = null;
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

  @Override
  public BackendStats stats() {
    return new BackendStats(hits, 0, skippedTaken);
  }

  /** For messages: a syscall failure that only means the thread vanished. */
  static boolean isGone(SyscallException e) {
    return e.errno() == Errno.ESRCH;
  }
}
