package io.qpatch.proc;

import io.qpatch.error.ProcessExitedException;
import io.qpatch.error.RefusedException;
import io.qpatch.error.SyscallException;
import io.qpatch.sys.Errno;
import io.qpatch.sys.Reg;
import io.qpatch.sys.Mman;
import io.qpatch.sys.Registers;
import io.qpatch.sys.Syscall;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Makes a stopped thread of the target execute one system call for us, then puts every
 * register back. Safe against qpatch being SIGKILLed at any moment (see {@link RemoteOp}):
 * the thread runs the call at the {@link ControlPage}'s {@code syscall; ret}, with rsp on
 * an rt_sigreturn frame in a slot of that page, so a thread we die on returns into the
 * pad and restores itself.
 *
 * <p>Two ways: with the thread stopped throughout (syscall-entry and -exit stops, then
 * qpatch restores it with ptrace, exactly), or, for a thread held alone whose restore by
 * rt_sigreturn is exact ({@link #canRelease}), with the thread let go for the call: it runs
 * it, and the pad stores the result, frees the slot and restores it, with no stop after
 * the one that redirected it ({@link #released}).
 *
 * <p>The control page is made (memfd_create, mmap, mprotect, close; its size and code are
 * set through the descriptor from our side) and removed (munmap) by system calls that
 * cannot use it, each a hold of its own. Those run at a {@code syscall; ret} and an
 * {@code rt_sigreturn} sequence the target already has (glibc's and musl's syscall wrappers
 * and __restore_rt, the Go runtime's osyield and sigreturn), with the frame on the thread's
 * stack below the red zone. On the main thread's stack the FPU image goes there too, and
 * the thread may be let go for the call (the bytes there are dead stack; the call's effect
 * is read in /proc); elsewhere (a goroutine's stack is too small for the FPU image, and the
 * bytes below it may be another object's) the thread stays stopped and the bytes are put
 * back afterwards, and a thread we die on during those few calls gets every register and
 * its signal mask back, but its x87/SSE/AVX state reset. A target with neither sequence
 * falls back to any {@code syscall} instruction, unprotected: a thread we die on there runs
 * on with our registers.
 *
 * <p>A thread stopped inside an interrupted system call (nanosleep, read ...) keeps it:
 * while our call runs, orig_rax is -1 so the kernel does not apply its restart logic to
 * our registers; once the saved registers (orig_rax = the interrupted call, rax =
 * -ERESTART*) are back, the kernel restarts the original call on resume exactly as it
 * would have (arch/x86/kernel/signal.c, arch_do_signal_or_restart).
 */
final class RemoteSyscall {

  /** Syscall-stops before a let-go call's rt_sigreturn at most: the pad's getpid, entry and exit. */
  private static final int LET_GO_STOPS = 3;

  /** 128-byte red zone below rsp that the interrupted code may use (psABI 3.2.2). */
  static final int RED_ZONE = 128;

  /** rdi, rsi, rdx, r10, r8, r9: the kernel's syscall argument registers (x86-64 ABI A.2.1). */
  private static final Reg[] ARG_REGS = {Reg.RDI, Reg.RSI, Reg.RDX, Reg.R10, Reg.R8, Reg.R9};

  private final ThreadSet threads;
  private final Memory memory;
  private final XState xstate = new XState();
  private final MemorySegment scratch8 = Arena.ofAuto().allocate(8, 8);
  private Gadgets gadgets;
  private ControlPage page;
  /** The main thread's stack mapping as {@link #prepare} read it; null: not read. */
  private Mapping mainStack;

  RemoteSyscall(ThreadSet threads, Memory memory) {
    this.threads = threads;
    this.memory = memory;
  }

  /**
   * Runs syscall {@code nr} with {@code args} in thread {@code tid} (stopped) and returns
   * the kernel's raw result: a negative value is -errno. The thread is stopped afterwards.
   */
  long call(int tid, int nr, long... args) {
    return call(tid, false, null, nr, args);
  }

  /**
   * As {@link #call(int, int, long...)}. With {@code string} non-null, its bytes
   * (NUL-terminated) are placed in the target and their address replaces {@code args[0]}.
   * With {@code mayRelease} (one thread held alone, the others running), the thread may
   * be let go for the call itself and is then running afterwards (see {@link #released}).
   */
  long call(int tid, boolean mayRelease, String string, int nr, long... args) {
    if (args.length > ARG_REGS.length) throw new IllegalArgumentException("at most 6 arguments");
    ControlPage p = controlPage(tid);
    finishLetGo(tid);
    int slot = p.claim(memory, tid, ControlPage.KIND_SYSCALL, 0);
    if (slot < 0) return viaTarget(tid, nr, string, args); // every slot held by killed runs
    boolean released = false;
    try {
      long at = p.slot(slot);
      if (string != null) args[0] = writeString(at, string);
      RemoteOp op = new RemoteOp("syscall", threads, tid, scratch8);
      if (mayRelease && canRelease(op)) {
        released = true;
        return released(p, slot, op, nr, args);
      }
      return viaSlot(p, at, op, nr, args);
    } finally {
      if (!released && isLive(threads, tid)) {
        p.free(memory, slot);
        KillPoints.passed("syscall slot freed");
      }
    }
  }

  /**
   * A thread let go for a call restores itself with an rt_sigreturn from a frame we wrote:
   * below its stack pointer, with its FPU image below that (a bootstrap call, {@link
   * #viaTarget}), or in a control-page slot that the pad frees two instructions before
   * (a released call, {@link #released}). Held again before that rt_sigreturn (preempted
   * right after its system call, it is stopped there by the next operation), the next
   * operation would overwrite that frame: its own frame and the called function's stack go
   * below the stack pointer, and the next claim of the slot takes the same slot. The thread
   * would then restore corrupted vector registers, or our registers instead of its own,
   * forever. So a thread found there is first run through that rt_sigreturn, syscall-stop
   * by syscall-stop (its signals are still blocked by the call), then put in an event stop.
   */
  void finishLetGo(int tid) {
    Registers r = ThreadRegs.get(tid);
    if (!onLetGoFrame(r) && (page == null || !page.containsCode(r.rip()))) return;
    RemoteOp op = new RemoteOp("let-go", threads, tid, scratch8);
    for (int stops = 0; stops < LET_GO_STOPS; stops++) {
      if (op.nextSyscallStop().origRax() == Syscall.RT_SIGRETURN) {
        op.nextSyscallStop();  // its exit: the thread's own registers are back
        break;
      }
    }
    threads.leaveSignalStop(op.t);
    op.step("let-go call finished");
  }

  /**
   * At the gadget's ret with our frame's pretcode (the rt_sigreturn sequence) on top of the
   * stack, or in that sequence. Only this run lets threads go at the gadgets, and only once
   * it has found them; a thread returning from a real signal handler through the same
   * sequence is run through its rt_sigreturn as it was about to be anyway.
   */
  private boolean onLetGoFrame(Registers r) {
    Gadgets g = gadgets;
    if (g == null || g.sigreturn() == 0) return false;
    if (g.inSigreturn(r.rip())) return true;
    return r.rip() == g.syscallRet() + 2 && ControlPage.le(memory.read(r.rsp(), 8), 0) == g.sigreturn();
  }

  /** Writes {@code s} (NUL-terminated) into slot {@code slot}'s string area; returns its address. */
  private long writeString(long slot, String s) {
    byte[] bytes = (s + "\0").getBytes(StandardCharsets.UTF_8);
    if (bytes.length > ControlPage.SLOT_STRING_SIZE) {
      throw new IllegalArgumentException("string for a remote system call too long: " + s.length());
    }
    memory.write(slot + ControlPage.SLOT_STRING, bytes);
    return slot + ControlPage.SLOT_STRING;
  }

  private long viaSlot(ControlPage p, long slot, RemoteOp op, int nr, long[] args) {
    Registers work = slotWork(p, slot, op, nr, args);
    try {
      op.redirect(work);
      return run(op, work, nr);
    } finally {
      op.restore(null, null); // a system call leaves the FPU state alone
    }
  }

  /**
   * Writes the thread's state as a frame into {@code slot} (its FPU image too) and returns the
   * registers that make it run the call at the pad, rbx the slot, rsp the frame.
   */
  private Registers slotWork(ControlPage p, long slot, RemoteOp op, int nr, long[] args) {
    long frame = slot + ControlPage.SLOT_SIGFRAME, fpstate = slot + ControlPage.SLOT_FPSTATE;
    memory.write(fpstate, XState.forSigFrame(xstate.read(op.t.tid)));
    memory.write(frame, op.frame(p.done(), fpstate, new byte[0]));
    op.step("frame written");
    return workRegisters(op.saved, p.syscallRet(), frame, nr, args).set(Reg.RBX, slot);
  }

  /**
   * True when the thread can make the call let go, restoring itself through the pad
   * ({@link #released}) exactly as ptrace would: it is in a plain stop of ours (not a
   * signal-delivery-stop or group-stop), and not inside a system call that the kernel would
   * resume through restart_block (-ERESTART_RESTARTBLOCK: nanosleep, poll, a futex wait
   * with a timeout), which rt_sigreturn resets (see {@link SigFrame#resumeState}).
   */
  private static boolean canRelease(RemoteOp op) {
    if (op.t.inSignalStop || op.t.groupStopped) return false;
    return op.saved.origRax() < 0 || op.saved.rax() != SigFrame.ERESTART_RESTARTBLOCK;
  }

  /**
   * The call made with the thread let go: its state is in the slot's frame, its registers
   * point at the pad's {@code syscall; ret} with every signal blocked, and it is resumed;
   * it makes the call, and the pad stores the result in the slot, frees the slot and
   * restores the thread with rt_sigreturn, with no stop in between. The hold ends at the
   * resume: the thread is not stopped at the two system-call stops and at the stop before
   * the restore that {@link #viaSlot} makes, each of which needs a CPU for it and for us
   * (0.2 to 0.4 ms of a hold on the 2-CPU VM). The same frame restores it if qpatch dies.
   */
  private long released(ControlPage p, int slot, RemoteOp op, int nr, long[] args) {
    op.redirect(slotWork(p, p.slot(slot), op, nr, args));
    threads.release(op.t);
    op.step("released");
    long r = awaitOnItsOwn(op.t, () -> p.owner(memory, slot) == 0 ? p.result(memory, slot) : NOT_YET,
        5_000_000_000L, "did not finish within 5 s; it finishes on its own");
    op.step("done");
    return r;
  }

  /**
   * Waits for a call that thread {@code t}, let go, makes on its own: until {@code effect}
   * sees it done (it returns the result then, {@link #NOT_YET} before). Such a call takes
   * microseconds, so this polls, with the thread's own events handled meanwhile (it may be
   * stopped by a SIGSTOP, or be killed). Refuses after {@code timeoutNanos}, saying
   * {@code late} of the call.
   */
  private long awaitOnItsOwn(TracedThread t, java.util.function.LongSupplier effect, long timeoutNanos,
      String late) {
    long start = System.nanoTime();
    while (true) {
      long seen = effect.getAsLong();
      if (seen != NOT_YET) return seen;
      threads.pollOne(t, false);
      if (t.isGone()) throw new ProcessExitedException(threads.pid, threads.exitStatus());
      long waited = System.nanoTime() - start;
      if (waited > timeoutNanos) {
        throw new RefusedException("a system call of qpatch in thread " + t.tid + " of pid "
            + threads.pid + " " + late);
      }
      if (waited < 50_000) Thread.onSpinWait();
      else java.util.concurrent.locks.LockSupport.parkNanos(20_000);
    }
  }

  /** A raw result of {@link #call}: negative ones become a SyscallException named {@code what}. */
  long checked(String what, long r) {
    if (r < 0 && r > -4096) {
      int errno = (int) -r;
      throw new SyscallException(
          "remote " + what, threads.pid, errno,
          "remote " + what + " in pid " + threads.pid + " failed: " + Errno.format(errno));
    }
    return r;
  }

  static boolean isLive(ThreadSet threads, int tid) {
    return threads.live().stream().anyMatch(t -> t.tid == tid);
  }

  private static Registers workRegisters(Registers saved, long rip, long rsp, int nr, long[] args) {
    Registers work = saved.copy().rip(rip).rsp(rsp).rax(nr).set(Reg.ORIG_RAX, -1);
    for (int i = 0; i < args.length; i++) work.set(ARG_REGS[i], args[i]);
    return work;
  }

  /**
   * Runs the thread from the syscall instruction {@code work} points at through its
   * syscall-entry and syscall-exit stops; returns the result. The thread then sits right
   * after the instruction, and {@link RemoteOp#restore} moves it on.
   */
  private long run(RemoteOp op, Registers work, int nr) {
    long at = work.rip();
    Registers entry = op.nextSyscallStop();
    if (entry.rip() == at) entry = op.afterInterruptedSyscall(work);
    if (entry.rip() != at + 2 || entry.origRax() != nr) throw strayed(op, entry);
    op.step("at syscall entry");
    Registers exit = op.nextSyscallStop();
    if (exit.rip() != at + 2) throw strayed(op, exit);
    op.step("at syscall exit");
    return exit.rax();
  }

  private IllegalStateException strayed(RemoteOp op, Registers r) {
    return new IllegalStateException("thread " + op.t.tid + " of pid " + threads.pid
        + " left the syscall instruction unexpectedly (rip 0x" + Long.toHexString(r.rip())
        + ", orig_rax " + r.origRax() + ")");
  }

  // ---- the control page -----------------------------------------------------------

  /**
   * What the first remote operation would otherwise do while it holds a thread, done now
   * with every thread running: find the code sequences the bootstrap uses (a scan of
   * libc's text), the main thread's stack, and a control page an earlier qpatch left; and
   * when there is none, make it with {@code tid}, each of its system calls a hold of its own.
   */
  void prepare(int tid) {
    gadgets();
    List<Mapping> maps = ProcMaps.read(threads.pid);
    mainStack = maps.stream().filter(m -> m.path().equals("[stack]")).findFirst().orElse(null);
    if (page == null) page = ControlPage.find(maps, memory);
    if (page == null) page = createPage(tid);
  }

  /** The control page, found in the target's maps or made now with {@code tid}. */
  ControlPage controlPage(int tid) {
    if (page != null) return page;
    page = ControlPage.find(ProcMaps.read(threads.pid), memory);
    if (page == null) page = createPage(tid);
    return page;
  }

  /**
   * Makes the control page with four system calls in thread {@code tid}: memfd_create, mmap
   * of the whole read-write, mprotect of the pad R-X, close. Each is a hold of the thread
   * of its own when it runs (the others run throughout), so that no hold is longer than one
   * system call. Its size and pad code are set from our side through the descriptor
   * ({@link MemfdFile}) before it is mapped. A qpatch killed in between leaves a half-made
   * page, which {@link #releaseControlPage} removes, or a close-on-exec descriptor.
   */
  private ControlPage createPage(int tid) {
    java.util.Set<Integer> fdsBefore = controlFds();
    java.util.Set<Long> mappedBefore = controlMappings();
    int fd = (int) checked("memfd_create", bootstrapCall(tid, () -> newest(controlFds(), fdsBefore),
        Syscall.MEMFD_CREATE, ControlPage.NAME, 0, Mman.MFD_CLOEXEC));
    try {
      try (MemfdFile file = MemfdFile.open(threads.pid, fd, "the control page")) {
        file.setLength(ControlPage.TOTAL);
        file.write(0, ControlPage.code());
      }
      long base = checked("mmap", bootstrapCall(tid, () -> newest(controlMappings(), mappedBefore),
          Syscall.MMAP, null, 0, ControlPage.TOTAL, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0));
      try {
        checked("mprotect", bootstrapCall(tid, () -> isPadMapped(base) ? 0 : NOT_YET,
            Syscall.MPROTECT, null, base, ControlPage.CODE_SIZE, Mman.PROT_READ | Mman.PROT_EXEC));
      } catch (RuntimeException e) {
        heldAlone(tid, (t, alone) -> viaTarget(t, Syscall.MUNMAP, null, base, ControlPage.TOTAL));
        throw e;
      }
      return new ControlPage(base);
    } finally {
      bootstrapCall(tid, () -> controlFds().contains(fd) ? NOT_YET : 0, Syscall.CLOSE, null, fd);
    }
  }

  /** What {@link #viaTarget} returns for a thread let go: the call's result is not seen. */
  private static final long LET_GO = Long.MIN_VALUE;

  /** What an effect returns while the call has not taken effect yet. */
  private static final long NOT_YET = Long.MIN_VALUE + 1;

  /**
   * A system call that makes or removes the control page, in thread {@code tid} held alone:
   * the thread is let go for the call when it can be ({@link #viaTarget(int, boolean, int,
   * String, long...)}), and then the call's {@code effect} in /proc is waited for (it returns
   * the call's result once it sees it, {@link #NOT_YET} before); else it is made with the
   * thread stopped throughout and its result returned.
   */
  private long bootstrapCall(int tid, java.util.function.LongSupplier effect, int nr, String string,
      long... args) {
    TracedThread[] ran = new TracedThread[1];
    long r = heldAlone(tid, (t, alone) -> {
      ran[0] = threads.find(t); // held: live
      return viaTarget(t, alone, nr, string, args);
    });
    if (r != LET_GO) return r;
    return awaitOnItsOwn(ran[0], effect, 2_000_000_000L,
        "(" + nr + ") had no effect within 2 s; try again");
  }

  /** The target's descriptors of control-mapping memfds. */
  private java.util.Set<Integer> controlFds() {
    java.util.Set<Integer> out = new java.util.HashSet<>();
    ProcFds.memfds(threads.pid).forEach((fd, name) -> {
      if (name.equals(ControlPage.NAME)) out.add(fd);
    });
    return out;
  }

  /** Starts of the target's read-write control-mapping mappings of the full size. */
  private java.util.Set<Long> controlMappings() {
    java.util.Set<Long> out = new java.util.HashSet<>();
    for (Mapping m : ProcMaps.read(threads.pid)) {
      if (ControlPage.isOurs(m) && m.isWritable() && m.size() == ControlPage.TOTAL) out.add(m.start());
    }
    return out;
  }

  private boolean isPadMapped(long base) {
    return ProcMaps.read(threads.pid).stream().anyMatch(m -> m.start() == base
        && ControlPage.isOurs(m) && m.isExecutable() && m.size() == ControlPage.CODE_SIZE);
  }

  /** The one element of {@code now} not in {@code before}, or NOT_YET. */
  private static <T extends Number> long newest(java.util.Set<T> now, java.util.Set<T> before) {
    for (T x : now) {
      if (!before.contains(x)) return x.longValue();
    }
    return NOT_YET;
  }

  /**
   * Runs {@code work} on thread {@code tid}, or on another live thread once it has exited:
   * as it is when it is stopped already, else held alone for the work and let go.
   */
  private long heldAlone(int tid, HeldWork work) {
    TracedThread t = threads.find(tid);
    if (t == null || t.isGone()) {
      List<TracedThread> live = threads.live();
      if (live.isEmpty()) throw new ProcessExitedException(threads.pid, threads.exitStatus());
      t = live.getFirst();
    }
    if (t.isStopped()) return work.run(t.tid, false);
    TracedThread held = t;
    return Boost.during(() -> {
      if (!threads.hold(held)) return heldAlone(held.tid, work); // exited meanwhile
      try {
        return work.run(held.tid, true);
      } finally {
        threads.release(held);
      }
    });
  }

  /** Work on a thread; {@code alone}: held alone for it by {@link #heldAlone}, the others running. */
  private interface HeldWork {
    long run(int tid, boolean alone);
  }

  /**
   * Unmaps the control page if no thread can still need it: none runs its code, and no
   * slot belongs to a thread still inside a call made by a qpatch that was killed. Also
   * unmaps a half-made page (never made executable: nothing can run there). Best effort: a
   * page left mapped is harmless and the next qpatch retries.
   *
   * <p>No stop of every thread: the slots are read first, then each thread is held alone in
   * turn to read its registers. That suffices because only a thread of a killed qpatch's
   * call can enter the page without us, and such a thread owns its slot until it is in the
   * pad's last two instructions, after which it leaves the page for good: a thread that
   * owned no slot when the slots were read, and is seen outside the pad, never comes back.
   */
  void releaseControlPage() {
    List<Mapping> maps = ProcMaps.read(threads.pid);
    page = null;
    if (maps.stream().noneMatch(ControlPage::isOurs)) return;
    ControlPage p = ControlPage.find(maps, memory);
    ControlPage.SlotWords slots = p == null ? null : p.slotWords(memory); // before the registers
    if (p != null && p.idle(slots, registersOfEach())) {
      checked("munmap", heldAlone(threads.pid,
          (t, alone) -> viaTarget(t, Syscall.MUNMAP, null, p.base, ControlPage.TOTAL)));
    }
    for (Mapping m : maps) {
      boolean partOfPage = p != null && m.start() >= p.base && m.end() <= p.base + ControlPage.TOTAL;
      if (ControlPage.isOurs(m) && !m.isExecutable() && !partOfPage) {
        checked("munmap", heldAlone(threads.pid,
            (t, alone) -> viaTarget(t, Syscall.MUNMAP, null, m.start(), m.size())));
      }
    }
  }

  /** The registers of every live thread, each read while that thread is held alone. */
  private java.util.Map<Integer, Registers> registersOfEach() {
    java.util.Map<Integer, Registers> regs = new java.util.HashMap<>();
    for (TracedThread t : threads.live()) {
      heldAlone(t.tid, (tid, alone) -> {
        regs.put(tid, ThreadRegs.get(tid));
        return 0;
      });
    }
    return regs;
  }

  // ---- system calls that cannot use the control page -----------------------------

  /**
   * Runs a system call at sequences the target already has (see the class comment). With
   * {@code string} non-null, its bytes (NUL-terminated, at most 127) are placed in the
   * frame and their address replaces {@code args[0]}.
   */
  private long viaTarget(int tid, int nr, String string, long... args) {
    return viaTarget(tid, false, nr, string, args);
  }

  /**
   * As {@link #viaTarget(int, int, String, long...)}; with {@code mayLetGo}, a thread on the
   * main thread's stack that {@link #canRelease} is let go for the call and {@link #LET_GO}
   * returned: libc's {@code syscall; ret} returns into its rt_sigreturn sequence, which
   * restores it from the frame, and the bytes below its red zone that the frame took are
   * dead stack (a signal handler may take them at any time). Its result is not seen; the
   * caller looks for the call's effect instead ({@link #bootstrapCall}).
   */
  private long viaTarget(int tid, boolean mayLetGo, int nr, String string, long... args) {
    Gadgets g = gadgets();
    finishLetGo(tid);
    RemoteOp op = new RemoteOp("bootstrap", threads, tid, scratch8);
    if (g.sigreturn() == 0) return unprotected(op, g.syscallRet(), nr, args);
    long frame = (op.saved.rsp() - RED_ZONE - 64 - SigFrame.size()) & ~15L;
    byte[] fpu = onMainStack(op.saved.rsp()) ? XState.forSigFrame(xstate.read(tid)) : null;
    long low = fpu == null ? frame : (frame - fpu.length) & ~63L;
    byte[] data = string == null ? new byte[0] : (string + "\0").getBytes(StandardCharsets.UTF_8);
    if (string != null) args[0] = frame + SigFrame.SCRATCH_OFFSET;
    boolean letGo = mayLetGo && fpu != null && canRelease(op);
    byte[] stack = letGo ? null : memory.read(low, (int) (frame + SigFrame.size() - low));
    if (fpu != null) memory.write(low, fpu);
    memory.write(frame, op.frame(g.sigreturn(), fpu == null ? 0 : low, data));
    op.step("frame written");
    Registers work = workRegisters(op.saved, g.syscallRet(), frame, nr, args);
    if (letGo) {
      op.redirect(work);
      threads.release(op.t);
      op.step("released");
      return LET_GO;
    }
    try {
      op.redirect(work);
      return run(op, work, nr);
    } finally {
      op.restore(null, null);
      if (!op.t.isGone()) memory.write(low, stack);
    }
  }

  /**
   * True when {@code rsp} lies well inside the main thread's stack, where a few KiB below
   * the red zone are free. The stack's mapping was read ahead by {@link #prepare} (it only
   * grows, so a stack pointer within it is within the stack now). Elsewhere (a goroutine's small stack in the Go heap, say) the
   * FPU image is left out of the frame.
   */
  private boolean onMainStack(long rsp) {
    Mapping stack = mainStack;
    if (stack == null || !stack.contains(rsp)) {
      stack = ProcMaps.read(threads.pid).stream().filter(m -> m.contains(rsp)).findFirst().orElse(null);
    }
    return stack != null && stack.path().equals("[stack]") && rsp - stack.start() > 64 * 1024;
  }

  private long unprotected(RemoteOp op, long syscall, int nr, long[] args) {
    try {
      Registers work = workRegisters(op.saved, syscall, op.saved.rsp(), nr, args);
      op.redirect(work);
      return run(op, work, nr);
    } finally {
      op.restore(null, null);
    }
  }

  private Gadgets gadgets() {
    if (gadgets == null) gadgets = Gadgets.find(threads.pid, memory);
    return gadgets;
  }
}
