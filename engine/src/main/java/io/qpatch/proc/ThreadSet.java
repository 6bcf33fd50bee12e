package io.qpatch.proc;

import io.qpatch.error.ProcessExitedException;
import io.qpatch.error.RefusedException;
import io.qpatch.error.SyscallException;
import io.qpatch.sys.Errno;
import io.qpatch.sys.Libc;
import io.qpatch.sys.Ptrace;
import io.qpatch.sys.Signals;
import io.qpatch.sys.WaitFlags;
import io.qpatch.sys.WaitStatus;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The threads of one traced process and the ptrace state machine that keeps them:
 * seizing every thread without racing thread creation, stopping and resuming the
 * world, and handling the stops a running tracee reports (new threads, signals sent to
 * it, group-stop, exit). Runs only on the tracer thread.
 *
 * <p>Signals: a signal-delivery-stop seen while the world is running is passed on at
 * once; one seen while we hold the thread is kept and injected when the thread is
 * resumed or detached, so nothing the target was sent is lost (ptrace(2), "Signal
 * injection and suppression").
 */
final class ThreadSet implements Tracer.EventPump {
  /**
   * Options for every thread: follow new threads, see exec instead of a SIGTRAP, and
   * syscall-stops as SIGTRAP | 0x80, which a dying tracer leaves harmless (see RemoteOp).
   */
  static final int OPTIONS = Ptrace.O_TRACECLONE | Ptrace.O_TRACEEXEC | Ptrace.O_TRACESYSGOOD;

  private static final long STOP_TIMEOUT_NANOS = 2_000_000_000L;

  final int pid;
  private final int options;
  private final Map<Integer, TracedThread> threads = new LinkedHashMap<>();
  private final MemorySegment eventMsg = Arena.ofAuto().allocate(8);
  private final int[] status = new int[1];
  /** True while the caller holds the world stopped: new threads stay stopped too. */
  private boolean holding;
  /** True inside {@link #leaveSignalStop}, which keeps the signals it meets itself. */
  private boolean leaving;
  /** Sees signal-delivery-stops first (breakpoint SIGTRAPs of a tracer); null: none. */
  private StopHandler stopHandler;
  private int exitStatus = -1;

  ThreadSet(int pid, int options) {
    this.pid = pid;
    this.options = options;
  }

  // ---- attach ---------------------------------------------------------------------

  /**
   * Seizes every thread of the process, leaving it running. Race-free against thread
   * creation without ever stopping the whole process: seize until /proc shows no new
   * thread, then pass each thread once through a stop of its own and look again. A thread
   * seized in the middle of clone(2) may create a child that is not auto-attached (the
   * kernel decides that at the start of the call, kernel/fork.c kernel_clone); its stop
   * comes after clone returned, so the child is in /proc by then and the next look finds it.
   * Each thread is held for one interrupt and resume only, the others running meanwhile.
   */
  void seizeAll() {
    seizeThread(pid, true);
    try {
      java.util.Set<Integer> passed = new java.util.HashSet<>();
      while (true) {
        while (seizeNewTasks() > 0) {}
        List<TracedThread> fresh = live().stream().filter(t -> !passed.contains(t.tid)).toList();
        if (fresh.isEmpty()) break;
        for (TracedThread t : fresh) {
          if (hold(t)) release(t);
          passed.add(t.tid);
        }
      }
      if (live().isEmpty()) throw new ProcessExitedException(pid, exitStatus);
    } catch (RuntimeException e) {
      detachQuietly(e);
      throw e;
    }
  }

  /** Undoes a half-done attach: whatever we seized goes back to running untouched. */
  private void detachQuietly(RuntimeException cause) {
    try {
      detachAll();
    } catch (RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  /** Adopts a thread that is already traced and stopped (a launched program). */
  void adoptStopped(int tid, WaitStatus stop) {
    TracedThread t = new TracedThread(tid);
    t.state = TracedThread.State.STOPPED;
    t.inSignalStop = stop.event() == 0;
    threads.put(tid, t);
    holding = true;
  }

  private int seizeNewTasks() {
    int added = 0;
    for (int tid : listTasks()) {
      if (!threads.containsKey(tid) && seizeThread(tid, false)) added++;
    }
    return added;
  }

  private boolean seizeThread(int tid, boolean leader) {
    try {
      Ptrace.seize(tid, options);
    } catch (SyscallException e) {
      if (e.errno() == Errno.ESRCH && !leader) return false; // exited meanwhile
      // auto-attached already, or exiting (ptrace_attach refuses a task with an exit_state)
      if (e.errno() == Errno.EPERM && !leader && (tracedByUs(tid) || exiting(tid))) return false;
      throw e;
    }
    threads.put(tid, new TracedThread(tid));
    return true;
  }

  private List<Integer> listTasks() {
    try (Stream<Path> s = Files.list(Path.of("/proc", Integer.toString(pid), "task"))) {
      return s.map(p -> Integer.parseInt(p.getFileName().toString())).sorted().toList();
    } catch (NoSuchFileException e) {
      throw new ProcessExitedException(pid, exitStatus);
    } catch (IOException e) {
      throw new ProcessExitedException(pid, exitStatus, "cannot list threads of pid " + pid + ": " + e.getMessage());
    }
  }

  /** True when thread {@code tid} is gone or a zombie (state Z or X in its stat line). */
  private boolean exiting(int tid) {
    String stat = HoldChoice.read(pid, tid, "stat");
    if (stat.isEmpty()) return true;
    char state = HoldChoice.state(stat);
    return state == 'Z' || state == 'X';
  }

  /** TracerPid in /proc/TID/status is the tracing thread's id: ours is the tracer thread. */
  private static boolean tracedByUs(int tid) {
    try {
      String self = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
      for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(tid), "status"))) {
        if (line.startsWith("TracerPid:")) return line.substring(10).trim().equals(self);
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }

  // ---- stop and resume --------------------------------------------------------------

  /** Stops every thread and returns once each is in a ptrace-stop we hold. */
  void stopAll() {
    holding = true;
    for (TracedThread t : live()) {
      if (t.state == TracedThread.State.RUNNING && !t.interruptPending) interrupt(t);
    }
    awaitStopped(this::live);
    if (live().isEmpty()) throw new ProcessExitedException(pid, exitStatus);
  }

  /**
   * Holds {@code t} alone: interrupts it and waits for its stop while the other threads run
   * on. Returns false when it was stopped already (by a stop of every thread, or an earlier
   * hold), so that only the caller that stopped it {@link #release}s it, and when it exited.
   */
  boolean hold(TracedThread t) {
    if (t.isStopped() || t.isGone()) return false;
    if (!t.interruptPending) interrupt(t);
    awaitStopped(() -> t.isGone() ? List.of() : List.of(t));
    return t.isStopped();
  }

  /** Lets a thread {@link #hold} stopped run again, with the signals kept for it. */
  void release(TracedThread t) {
    if (t.isStopped()) resume(t);
  }

  /**
   * Collects stops until none of {@code threads()} runs. A thread stops within tens of
   * microseconds of its interrupt once it has a CPU (we block meanwhile, leaving ours to
   * it), but one in uninterruptible sleep may take longer: 2 s, then refuse.
   */
  private void awaitStopped(java.util.function.Supplier<List<TracedThread>> threads) {
    long start = System.nanoTime();
    boolean nudged = false;
    while (true) {
      List<TracedThread> running = threads.get().stream().filter(t -> !t.isStopped()).toList();
      if (running.isEmpty()) return;
      boolean progress = false;
      for (TracedThread t : running) progress |= pollOne(t, true);
      if (progress) continue;
      if (!nudged && System.nanoTime() - start > NUDGE_NANOS) {
        nudged = true;
        for (TracedThread t : running) interrupt(t);
        continue;
      }
      if (!block(nudged ? start + STOP_TIMEOUT_NANOS : start + NUDGE_NANOS, running) && nudged) {
        throw notStopped(running.getFirst());
      }
    }
  }

  /**
   * After this long without its stop, a thread is interrupted again. An interrupt can be
   * absorbed by another ptrace-stop that comes first, with no PTRACE_EVENT_STOP after it:
   * seen in about one test run in four as a thread of a program attached in the middle of
   * its execve (the exec event stop came instead), which the next stop of every thread then
   * waited for in vain (state S, our interrupt "pending"). Not sooner: while the first is
   * really pending, a second sets the same trap, but one sent after its stop (not yet
   * collected) makes an extra stop later.
   */
  private static final long NUDGE_NANOS = 100_000_000L;

  /**
   * Blocks until any status arrives ({@link Tracer#awaitStatus}) or {@code deadline}, and
   * handles it: one of {@code waiting} is kept stopped, another thread of ours is handled
   * as the event pump would. False at the deadline.
   */
  private boolean block(long deadline, List<TracedThread> waiting) {
    int tid = Tracer.get().awaitStatus(deadline, status, this::owns);
    if (tid == 0) return false;
    TracedThread t = threads.get(tid);
    if (t == null || t.isGone()) dispatch(tid, status[0]); // a new thread: adopted
    else handle(t, new WaitStatus(status[0]), waiting.contains(t));
    return true;
  }

  /**
   * A thread of this process, known or not: a new thread's first stop can come before its
   * parent's clone event, and must be taken here even when this set is no event pump any
   * more (a detach), or that thread would stay stopped, and traced, for ever.
   */
  private boolean owns(int tid) {
    TracedThread t = threads.get(tid);
    return t != null && !t.isGone() || isOurTask(tid);
  }

  private void interrupt(TracedThread t) {
    if (HoldLog.ON && t.heldSince == 0) t.heldSince = System.nanoTime();
    try {
      Ptrace.interrupt(t.tid);
      t.interruptPending = true;
    } catch (SyscallException e) {
      if (e.errno() != Errno.ESRCH) throw e;
      // exiting: it stays RUNNING until its exit status is collected (and reaped)
    }
  }

  private RefusedException notStopped(TracedThread t) {
    return new RefusedException("thread " + t.tid + " of pid " + pid
        + " did not stop within 2 s (uninterruptible sleep?" + stateOf(t) + "); try again later");
  }

  /**
   * For the message: the thread's state letter in /proc (D: uninterruptible; t: already in a
   * ptrace stop whose status we never collected, which would be a bug of ours) and what we
   * believe of it.
   */
  private String stateOf(TracedThread t) {
    char letter = HoldChoice.state(HoldChoice.read(pid, t.tid, "stat"));
    return " state " + letter + ", ours " + t.state + (t.interruptPending ? " interrupt pending" : "");
  }

  /** Lets every held thread run again, delivering the signals kept for it. */
  void resumeAll() {
    holding = false;
    for (TracedThread t : live()) {
      if (t.isStopped()) resume(t);
    }
  }

  private void resume(TracedThread t) {
    int signal = t.inSignalStop && !t.pendingSignals.isEmpty() ? t.pendingSignals.poll() : 0;
    try {
      if (t.groupStopped && !t.inSignalStop) listenOrCont(t);
      else Ptrace.cont(t.tid, signal);
      t.state = TracedThread.State.RUNNING;
      t.inSignalStop = false;
      loggedHold(t);
      resendRest(t);
    } catch (SyscallException e) {
      if (e.errno() != Errno.ESRCH) throw e;
      // killed while stopped: the pump collects (and so reaps) its exit status
      t.state = TracedThread.State.RUNNING;
    }
  }

  private void loggedHold(TracedThread t) {
    if (t.heldSince == 0) return;
    HoldLog.held(pid, t.tid, t.heldSince);
    t.heldSince = 0;
  }

  /** Keeps a group-stopped thread stopped (but woken by SIGCONT), as if untraced. */
  private static void listenOrCont(TracedThread t) {
    try {
      Ptrace.listen(t.tid);
    } catch (SyscallException e) {
      if (e.errno() != Errno.EIO) throw e;
      Ptrace.cont(t.tid, 0); // not in group-stop after all
    }
  }

  /** Signals beyond the one a stop can carry are sent again, so none is lost. */
  private void resendRest(TracedThread t) {
    while (!t.pendingSignals.isEmpty()) {
      int sig = t.pendingSignals.poll();
      try {
        Libc.tgkill(pid, t.tid, sig);
      } catch (SyscallException e) {
        if (e.errno() != Errno.ESRCH) throw e;
      }
    }
  }

  /**
   * Detaches from every thread; each gets the signals kept for it. A thread that runs is
   * stopped alone and let go at once, the others running meanwhile: the process is never
   * stopped as a whole for a detach. Threads created meanwhile by threads not yet detached
   * were auto-attached and are detached in the next round.
   */
  void detachAll() {
    List<TracedThread> left;
    while (!(left = live()).isEmpty()) {
      for (TracedThread t : left) {
        hold(t);
        if (t.isStopped()) detach(t);
      }
    }
    holding = false;
  }

  private void detach(TracedThread t) {
    int signal = t.inSignalStop && !t.pendingSignals.isEmpty() ? t.pendingSignals.poll() : 0;
    try {
      Ptrace.detach(t.tid, signal);
      loggedHold(t);
      resendRest(t);
    } catch (SyscallException e) {
      if (e.errno() != Errno.ESRCH) throw e;
      reapExiting(t);
    }
    t.state = TracedThread.State.GONE;
  }

  /**
   * A thread that vanished from a ptrace-stop was killed and is exiting; as its tracer we
   * must collect its exit, or it stays a zombie and the process can never be reaped.
   */
  private void reapExiting(TracedThread t) {
    long deadline = System.nanoTime() + 200_000_000L;
    while (System.nanoTime() < deadline) {
      try {
        if (Libc.waitpid(t.tid, status, WaitFlags.WNOHANG | WaitFlags.__WALL) != 0) return;
      } catch (SyscallException e) {
        return; // ECHILD: already reaped, or no longer ours
      }
      java.util.concurrent.locks.LockSupport.parkNanos(100_000);
    }
  }

  // ---- events -----------------------------------------------------------------------

  @Override
  public boolean pump() {
    boolean any = false;
    for (TracedThread t : live()) {
      if (!t.isStopped()) any |= pollOne(t, false);
    }
    return any;
  }

  /** Collects one pending status of {@code t}, if any, and handles it. */
  boolean pollOne(TracedThread t, boolean wantStop) {
    int r;
    try {
      r = Libc.waitpid(t.tid, status, WaitFlags.WNOHANG | WaitFlags.__WALL);
    } catch (SyscallException e) {
      if (e.errno() != Errno.ECHILD) throw e;
      markGone(t, -1);
      return true;
    }
    if (r == 0) return false;
    handle(t, new WaitStatus(status[0]), wantStop);
    return true;
  }

  /**
   * Handles a status that a blocking {@code waitpid(-1)} loop ({@link BlockingEvents})
   * collected for {@code tid}. Returns false when {@code tid} is not a thread of this
   * process. A thread not seen before is a new one whose first stop arrived ahead of its
   * parent's clone event: it is adopted here, and the clone event later finds it known.
   */
  boolean dispatch(int tid, int rawStatus) {
    TracedThread t = threads.get(tid);
    WaitStatus st = new WaitStatus(rawStatus);
    if (t == null || t.isGone()) {
      if (st.terminated() || !isOurTask(tid)) return t != null;
      t = new TracedThread(tid);
      threads.put(tid, t);
    }
    handle(t, st, false);
    return true;
  }

  private boolean isOurTask(int tid) {
    return Files.exists(Path.of("/proc", Integer.toString(pid), "task", Integer.toString(tid)));
  }

  void setStopHandler(StopHandler handler) {
    this.stopHandler = handler;
  }

  private ForkHandler forkHandler;

  ForkHandler forkHandler() {
    return forkHandler;
  }

  /**
   * Turns fork following on (handler non-null) or off for every thread, which must all
   * be stopped; threads created later inherit the options (kernel/ptrace.c copies them to
   * auto-attached clones).
   */
  void followForks(ForkHandler handler) {
    int opts = handler == null ? options : options | Ptrace.O_TRACEFORK | Ptrace.O_TRACEVFORK;
    for (TracedThread t : live()) {
      try {
        Ptrace.setOptions(t.tid, opts);
      } catch (SyscallException e) {
        if (e.errno() != Errno.ESRCH) throw e;
      }
    }
    this.forkHandler = handler;
  }

  /**
   * Moves {@code t} from a signal-delivery-stop for a signal qpatch caused itself (the
   * SIGTRAP of a single step, the SIGSEGV that ends a remote call) to an event stop. Were
   * qpatch killed while the thread sits in that signal-delivery-stop, the kernel would let
   * it go and deliver the signal (kernel/signal.c ptrace_signal takes the signal from
   * exit_code, which a dying tracer leaves as it was), killing the target. PTRACE_INTERRUPT
   * then PTRACE_CONT with no signal: the trap is taken before the thread returns to user
   * space, so it runs no code. Signals that arrive meanwhile are kept like any other.
   */
  void leaveSignalStop(TracedThread t) {
    Ptrace.interrupt(t.tid);
    Ptrace.cont(t.tid, 0);
    leaving = true;
    try {
      while (true) {
        WaitStatus st = waitFor(t);
        if (st.terminated()) {
          handle(t, st, true);
          throw new ProcessExitedException(pid, st.raw());
        }
        handle(t, st, true);
        if (st.event() == Ptrace.EVENT_STOP) {
          t.interruptPending = false;
          return;
        }
        Ptrace.cont(t.tid, 0); // a signal sent meanwhile: kept in pendingSignals, delivered on resume
      }
    } finally {
      leaving = false;
    }
  }

  /** Blocks until {@code t} reports a status and returns it (for single-step work). */
  WaitStatus waitFor(TracedThread t) {
    Libc.waitpid(t.tid, status, WaitFlags.__WALL);
    return new WaitStatus(status[0]);
  }

  /**
   * The state machine for one reported status. With {@code wantStop} (or while the
   * world is held) a stop is kept; otherwise the thread is let go at once.
   */
  void handle(TracedThread t, WaitStatus st, boolean wantStop) {
    if (st.terminated()) {
      markGone(t, st.raw());
      return;
    }
    boolean keep = wantStop || holding;
    switch (st.event()) {
      case Ptrace.EVENT_CLONE -> onClone(t, keep);
      case Ptrace.EVENT_STOP -> onEventStop(t, st, keep);
      case 0 -> onSignal(t, st.stopSignal(), keep);
      default -> stopOrGo(t, keep, false); // exec, exit: nothing to change
    }
  }

  private void onClone(TracedThread parent, boolean keep) {
    int child = (int) Ptrace.eventMessage(parent.tid, eventMsg);
    // The child starts with a PTRACE_EVENT_STOP of its own (seized tracees' children).
    // With a blocking waitpid(-1) loop (dispatch) that stop may already have been seen
    // and handled before the parent's clone event: then it is not pending any more.
    if (threads.putIfAbsent(child, new TracedThread(child)) == null) {
      threads.get(child).interruptPending = true;
    }
    stopOrGo(parent, keep, false);
  }

  private void onEventStop(TracedThread t, WaitStatus st, boolean keep) {
    int sig = st.stopSignal();
    boolean groupStop =
        sig == Signals.SIGSTOP || sig == Signals.SIGTSTP || sig == Signals.SIGTTIN
            || sig == Signals.SIGTTOU;
    if (groupStop) t.groupStopped = true;
    else t.interruptPending = false;
    stopOrGo(t, keep, false);
  }

  private void onSignal(TracedThread t, int sig, boolean keep) {
    if (stopHandler != null && stopHandler.onSignalStop(t.tid, sig)) {
      stopOrGo(t, keep, false); // the handler's stop: resumed without the signal
      return;
    }
    if (sig == Signals.SIGCONT) t.groupStopped = false;
    if (keep && !leaving && isRequeueable(sig)) {
      requeue(t, sig);
      return;
    }
    t.pendingSignals.add(sig);
    stopOrGo(t, keep, true);
  }

  /**
   * A signal that a thread we hold took goes back to the kernel, pending, and the thread
   * to an event stop: a signal held only in a signal-delivery-stop is dropped if qpatch
   * is killed (seen on Linux 6.18: the tracee resumes without it), one pending in the
   * kernel is delivered whatever happens to us. A stopped thread does not dequeue it
   * again; it is delivered once the thread runs. Job-control signals (their effect is at
   * sending) and faults (the instruction raises them again) are kept as before.
   */
  private void requeue(TracedThread t, int sig) {
    t.state = TracedThread.State.STOPPED;
    try {
      Libc.tgkill(pid, t.tid, sig);
    } catch (SyscallException e) {
      if (e.errno() != Errno.ESRCH) throw e;
    }
    leaveSignalStop(t);
  }

  private static boolean isRequeueable(int sig) {
    return switch (sig) {
      case Signals.SIGSTOP, Signals.SIGTSTP, Signals.SIGTTIN, Signals.SIGTTOU, Signals.SIGCONT,
          Signals.SIGKILL, Signals.SIGSEGV, Signals.SIGBUS, Signals.SIGILL, Signals.SIGFPE,
          Signals.SIGTRAP, Signals.SIGSYS -> false;
      default -> true;
    };
  }

  private void stopOrGo(TracedThread t, boolean keep, boolean signalStop) {
    t.state = TracedThread.State.STOPPED;
    t.inSignalStop = signalStop;
    if (!keep) resume(t);
  }

  private void markGone(TracedThread t, int rawStatus) {
    t.state = TracedThread.State.GONE;
    t.pendingSignals.clear();
    if (t.tid == pid) exitStatus = rawStatus;
  }

  // ---- queries ----------------------------------------------------------------------

  List<TracedThread> live() {
    List<TracedThread> out = new ArrayList<>();
    for (TracedThread t : threads.values()) if (!t.isGone()) out.add(t);
    return out;
  }

  /** True while any thread is alive; cheaper than {@link #live()} for a per-event check. */
  boolean anyLive() {
    for (TracedThread t : threads.values()) if (!t.isGone()) return true;
    return false;
  }

  TracedThread thread(int tid) {
    TracedThread t = threads.get(tid);
    if (t == null || t.isGone()) {
      throw new ProcessExitedException(pid, -1, "thread " + tid + " of pid " + pid + " is gone");
    }
    return t;
  }

  /** The live thread {@code tid}; null when it is not ours or has exited. */
  TracedThread find(int tid) {
    TracedThread t = threads.get(tid);
    return t == null || t.isGone() ? null : t;
  }

  TracedThread requireStopped(int tid) {
    TracedThread t = thread(tid);
    if (!t.isStopped()) {
      throw new IllegalStateException("thread " + tid + " is running: stop the target first");
    }
    return t;
  }

  /** The leader's raw wait status once the process is gone, else -1. */
  int exitStatus() {
    return exitStatus;
  }

}
