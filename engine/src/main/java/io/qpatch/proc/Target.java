package io.qpatch.proc;

import io.qpatch.error.BadInputException;
import io.qpatch.error.ProcessExitedException;
import io.qpatch.sys.Registers;
import io.qpatch.sys.Syscall;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * A live process under our control: attached by pid, or launched and held at its first
 * instruction. All of its threads are traced; threads it creates later are traced too.
 *
 * <p>A target runs unless stopped: {@link #stop()} stops every thread (stop-the-world)
 * and returns a handle whose {@code close()} resumes them; {@link #whileStopped} does the
 * same around a piece of work. {@link #whileOneHeld} holds a single thread instead, to run
 * remote system calls and calls while the others run on, and {@link #whileHeld} one given
 * thread, to read its registers. Registers can be read and written only while the thread
 * is stopped or held; memory can be read any time and should be written while stopped.
 * {@link #detach()} (or {@code close()}) lets the process go exactly as it was,
 * delivering every signal it was sent while we held it.
 *
 * <p>Every method may be called from any thread: ptrace work is handed to the {@link
 * Tracer} thread.
 */
public final class Target implements AutoCloseable {
  private final Tracer tracer = Tracer.get();
  /** See {@link #keepControlMapping}. */
  private volatile boolean keepControlMapping;
  private final ThreadSet threads;
  private final Memory memory;
  private final RemoteSyscall remote;
  private final RemoteCall calls;
  private final boolean launched;
  private int stopDepth;
  /** The thread {@link #whileOneHeld} or {@link #whileHeld} holds; null: none. */
  private TracedThread held;
  /** How long the last {@link #whileStopped} or {@link #whileOneHeld} held threads, in ns. */
  private volatile long lastHoldNanos;
  /** The thread the last hold chose in an event wait, 0 for none (see {@link HoldChoice#pick}). */
  private int lastWaiter;
  private boolean attached = true;

  private Target(ThreadSet threads, boolean launched) {
    this.threads = threads;
    this.launched = launched;
    this.memory = new Memory(threads.pid);
    this.remote = new RemoteSyscall(threads, memory);
    this.calls = new RemoteCall(threads, remote);
    if (launched) stopDepth = 1;
  }

  /** Attaches to every thread of process {@code pid}; the process keeps running. */
  public static Target attach(int pid) {
    if (pid <= 0) throw new BadInputException("no process with pid " + pid);
    if (pid == ProcessHandle.current().pid()) {
      throw new BadInputException("pid " + pid + " is qpatch itself; a process cannot trace itself");
    }
    if (!Files.isDirectory(Path.of("/proc", Integer.toString(pid)))) {
      throw new BadInputException("no process with pid " + pid);
    }
    Tracer tracer = Tracer.get();
    return tracer.call(
        () -> {
          tracer.prepareWaits();
          int waiter = HoldChoice.eventWaiter(pid);
          ThreadSet ts = new ThreadSet(pid, ThreadSet.OPTIONS);
          Boost.during(ts::seizeAll);
          Target t = new Target(ts, false);
          t.lastWaiter = waiter;
          tracer.addPump(ts);
          return t;
        });
  }

  /**
   * Starts {@code argv} (argv[0] searched in PATH) traced from its first instruction,
   * with our stdin, stdout and stderr, and {@code env} (null: ours). The target is
   * returned stopped: call {@link #resume()} or {@link #waitExit()}.
   */
  public static Target launch(List<String> argv, Map<String, String> env) {
    if (argv.isEmpty()) throw new BadInputException("no program to launch");
    Tracer tracer = Tracer.get();
    return tracer.call(
        () -> {
          tracer.prepareWaits();
          Target t = new Target(Launch.start(argv, env), true);
          tracer.addPump(t.threads);
          return t;
        });
  }

  public static Target launch(List<String> argv) {
    return launch(argv, null);
  }

  /** True for the memfd name of qpatch's control mapping ({@code qpatch-control}). */
  public static boolean isControlMappingName(String memfdName) {
    return ControlPage.NAME.equals(memfdName);
  }

  public int pid() {
    return threads.pid;
  }

  /**
   * True for a mapping path (as /proc/PID/maps shows it) of memory the engine itself put
   * in a process: the control page's memfd, which holds code but is no library.
   */
  public static boolean isEngineMapping(String path) {
    return path.startsWith("/memfd:" + ControlPage.NAME);
  }

  /**
   * The state letter of process {@code pid} (proc(5), /proc/PID/stat: 'R', 'S', 'Z', ...),
   * '?' when it is gone or unreadable; no attach needed.
   */
  public static char processState(int pid) {
    return HoldChoice.state(HoldChoice.read(pid, pid, "stat"));
  }

  /** The process has exited: a zombie, dead, or gone from /proc. */
  public static boolean hasExited(int pid) {
    char state = processState(pid);
    return state == 'Z' || state == 'X' || state == '?';
  }

  /** The process's name as the kernel keeps it (/proc/PID/comm); "?" when it is gone. */
  public static String command(int pid) {
    try {
      return java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Integer.toString(pid), "comm")).strip();
    } catch (java.io.IOException e) {
      return "?";
    }
  }

  /** True for a target started by {@link #launch}. */
  public boolean isLaunched() {
    return launched;
  }

  // ---- threads --------------------------------------------------------------------

  /** The ids of the live threads we trace, leader first. */
  public List<Integer> threadIds() {
    return tracer.call(() -> threads.live().stream().map(t -> t.tid).toList());
  }

  /** Every live thread with its name and state; pc when the target is stopped. */
  public List<ThreadInfo> threads() {
    return tracer.call(
        () -> {
          List<ThreadInfo> out = new ArrayList<>();
          for (TracedThread t : threads.live()) {
            long pc = t.isStopped() ? ThreadRegs.get(t.tid).rip() : -1;
            out.add(readStat(t.tid, pc));
          }
          return out;
        });
  }

  private ThreadInfo readStat(int tid, long pc) {
    Path stat = Path.of("/proc", Integer.toString(pid()), "task", Integer.toString(tid), "stat");
    try {
      String s = Files.readString(stat);
      int open = s.indexOf('('), close = s.lastIndexOf(')');
      return new ThreadInfo(tid, s.substring(open + 1, close), s.charAt(close + 2), pc);
    } catch (IOException | RuntimeException e) {
      return new ThreadInfo(tid, "?", 'X', pc);
    }
  }

  // ---- stop the world -------------------------------------------------------------

  /** A stop of every thread; {@code close()} resumes them. Nested stops are counted. */
  public interface Stopped extends AutoCloseable {
    @Override
    void close();
  }

  /** Stops every thread, new ones included, and returns once all are held. */
  public Stopped stop() {
    tracer.run(() -> Boost.during(this::stopOnTracer));
    return this::resume;
  }

  private void stopOnTracer() {
    requireAttached();
    if (held != null && stopDepth == 0) {
      throw new IllegalStateException("thread " + held.tid + " is held alone: release it before stopping every thread");
    }
    if (stopDepth++ == 0) threads.stopAll();
  }

  /** Undoes one {@link #stop()}; the last one lets every thread run again. */
  public void resume() {
    tracer.run(
        () -> {
          requireAttached();
          if (stopDepth == 0) return;
          if (--stopDepth == 0) Boost.during(threads::resumeAll);
        });
  }

  /**
   * Runs {@code work} with every thread stopped, then resumes them. The stop, the work and
   * the resume run as one task of the tracer thread, so the target is held for the work
   * alone, not for hand-offs between threads of ours (calls on this target from {@code
   * work} run inline).
   */
  public <T> T whileStopped(Supplier<T> work) {
    return tracer.call(
        () -> Boost.during(() -> {
          long start = System.nanoTime();
          stopOnTracer();
          try {
            return work.get();
          } finally {
            if (attached && --stopDepth == 0) threads.resumeAll();
            lastHoldNanos = System.nanoTime() - start;
          }
        }));
  }

  /**
   * Runs {@code work} with one thread held and the others running: the remote system calls
   * and calls it makes ({@link #syscall}, {@link #mmap}, {@link #callFunction} ...) run in
   * that thread. For a memory call ({@link #mmap}, {@link #munmap}, {@link #memfdCreate} ...)
   * the thread is let go and makes the call on its own, restoring itself afterwards; it is
   * held again when the work makes its next remote call. The thread is the one least likely
   * to notice ({@link HoldChoice}): one blocked in a system call that waits for an event,
   * which the kernel restarts after the hold. Signals it is sent meanwhile are kept and delivered afterwards, as for {@link
   * #stop()}. Inside a stop of every thread, {@code work} just runs (in the leader).
   */
  public <T> T whileOneHeld(Supplier<T> work) {
    return tracer.call(
        () -> {
          requireAttached();
          if (stopDepth > 0 || held != null) return work.get();
          List<TracedThread> live = threads.live();
          if (live.isEmpty()) throw new ProcessExitedException(pid(), threads.exitStatus());
          HoldChoice.Choice choice = HoldChoice.pick(pid(), threadIds(live), lastWaiter);
          int tid = choice.tid();
          lastWaiter = choice.waiting() ? tid : 0;
          remote.prepare(tid);
          return Boost.during(() -> {
            long start = System.nanoTime();
            try {
              return holding(holdChosen(tid), work);
            } finally {
              lastHoldNanos = System.nanoTime() - start;
            }
          });
        });
  }

  /**
   * Runs {@code work} with thread {@code tid} held (its registers can be read and written),
   * the others running; returns its result (never null), or empty when the thread has
   * exited.
   */
  public <T> Optional<T> whileHeld(int tid, Supplier<T> work) {
    return tracer.call(
        () -> {
          requireAttached();
          TracedThread t = threads.find(tid);
          if (t == null) return Optional.empty();
          if (t.isStopped()) return Optional.of(Objects.requireNonNull(work.get()));
          return Boost.during(() -> threads.hold(t)
              ? Optional.of(Objects.requireNonNull(holding(t, work))) : Optional.empty());
        });
  }

  /**
   * How long the last {@link #whileStopped} or {@link #whileOneHeld} held the target, from
   * the first interrupt to the last resume, on the tracer thread, in nanoseconds: what the
   * threads held saw, without our hand-offs or the choice of the thread.
   */
  public long lastHoldNanos() {
    return lastHoldNanos;
  }

  /** The id of the thread {@link #whileOneHeld} holds now; -1 outside of it. */
  public int heldThread() {
    return tracer.call(() -> held == null ? -1 : held.tid);
  }

  /**
   * Holds thread {@code tid}, chosen by {@link HoldChoice} before the boost (reading its
   * /proc files may wait for a thread to leave its CPU); if it exited meanwhile, another.
   */
  private TracedThread holdChosen(int tid) {
    while (true) {
      TracedThread t = threads.find(tid);
      if (t != null && (threads.hold(t) || t.isStopped())) return t;
      List<TracedThread> live = threads.live();
      if (live.isEmpty()) throw new ProcessExitedException(pid(), threads.exitStatus());
      tid = live.getFirst().tid;
    }
  }

  private static List<Integer> threadIds(List<TracedThread> live) {
    return live.stream().map(t -> t.tid).toList();
  }

  private <T> T holding(TracedThread t, Supplier<T> work) {
    TracedThread before = held;
    held = t;
    try {
      return work.get();
    } finally {
      held = before;
      if (attached) threads.release(t);
    }
  }

  public boolean isStopped() {
    return tracer.call(() -> stopDepth > 0);
  }

  // ---- registers and memory -------------------------------------------------------

  /** Registers of thread {@code tid}; the target must be stopped. */
  public Registers registers(int tid) {
    return tracer.call(
        () -> {
          threads.requireStopped(tid);
          return ThreadRegs.get(tid);
        });
  }

  /** Writes thread {@code tid}'s registers; the target must be stopped. */
  public void setRegisters(int tid, Registers regs) {
    tracer.run(
        () -> {
          threads.requireStopped(tid);
          ThreadRegs.set(tid, regs);
        });
  }

  /** Reads {@code length} bytes at {@code address}; fails if any byte is unmapped. */
  public byte[] read(long address, int length) {
    return memory.read(address, length);
  }

  /** Reads a little-endian 64-bit value. */
  public long readLong(long address) {
    return ByteBuffer.wrap(read(address, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
  }

  /** Writes {@code data} at {@code address}, read-only code pages included. */
  public void write(long address, byte[] data) {
    memory.write(address, data);
  }

  /** The current memory map ({@code /proc/PID/maps}). */
  public List<Mapping> maps() {
    return ProcMaps.read(pid());
  }

  // ---- remote system calls --------------------------------------------------------

  /**
   * Has a stopped thread of the target execute syscall {@code nr}; returns the raw
   * result (-errno on failure). Every register is restored afterwards. The target must
   * be stopped, or a thread held ({@link #whileOneHeld}).
   */
  public long syscall(int nr, long... args) {
    return tracer.call(() -> remote.call(executor(), nr, args));
  }

  /**
   * Calls the function at {@code address} in the target with up to six integer
   * arguments (SysV ABI) and returns its rax. The target must be stopped; the leader
   * (or first live) thread makes the call while the others stay stopped (or the thread
   * {@link #whileOneHeld} holds, while the others run), and afterwards
   * every register of it, vector state included, is as before. A call that crashes is
   * reported and the thread restored; one that does not return within 5 s (say, it
   * waits for a lock a stopped thread holds) is abandoned and the thread restored.
   */
  public long callFunction(long address, long... args) {
    return tracer.call(() -> calls.call(executor(), memory, address, args));
  }

  /*
   * The memory calls below, made with one thread held alone (whileOneHeld), let that thread
   * go for the system call itself (RemoteSyscall.released): it runs the call and restores
   * itself, and is held again only if the work makes another remote call. Inside a stop of
   * every thread they run with the thread stopped throughout.
   */

  /** mmap(2) in the target; returns the address. */
  public long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
    return tracer.call(() -> memoryCall("mmap", null, Syscall.MMAP, addr, length, prot,
        flags, fd, offset));
  }

  public void munmap(long addr, long length) {
    tracer.run(() -> memoryCall("munmap", null, Syscall.MUNMAP, addr, length));
  }

  public void mprotect(long addr, long length, int prot) {
    tracer.run(() -> memoryCall("mprotect", null, Syscall.MPROTECT, addr, length, prot));
  }

  /**
   * memfd_create(2) in the target; returns the fd. The name appears in /proc/PID/maps as
   * {@code /memfd:NAME} once mapped. It is passed in qpatch's control mapping.
   */
  public int memfdCreate(String name, int flags) {
    return tracer.call(() -> (int) memoryCall("memfd_create", name, Syscall.MEMFD_CREATE, 0, flags));
  }

  public void ftruncate(int fd, long length) {
    tracer.run(() -> memoryCall("ftruncate", null, Syscall.FTRUNCATE, fd, length));
  }

  public void close(int fd) {
    tracer.run(() -> memoryCall("close", null, Syscall.CLOSE, fd));
  }

  private long memoryCall(String what, String string, int nr, long... args) {
    int tid = executor();
    long r = remote.call(tid, held != null && stopDepth == 0, string, nr, args);
    return remote.checked(what, r);
  }

  /**
   * The thread that runs remote calls: the held one, else (every thread stopped) the leader
   * when alive, else the first thread.
   */
  private int executor() {
    requireAttached();
    if (held != null) {
      // let go for a system call (memoryCall): held again for the next remote call
      if (!held.isStopped() && !threads.hold(held)) {
        throw new ProcessExitedException(pid(), threads.exitStatus());
      }
      return threads.requireStopped(held.tid).tid;
    }
    if (stopDepth == 0) {
      throw new IllegalStateException("stop the target or hold a thread before remote calls"
          + " (target.stop(), target.whileOneHeld(...))");
    }
    List<TracedThread> live = threads.live();
    if (live.isEmpty()) throw new ProcessExitedException(pid(), threads.exitStatus());
    return live.getFirst().tid;
  }

  // ---- tracing --------------------------------------------------------------------

  /**
   * Installs {@code handler} (null removes it): it sees every signal-delivery-stop of
   * this target's threads before the signal is treated as the target's. See {@link
   * StopHandler}.
   */
  public void setStopHandler(StopHandler handler) {
    tracer.run(() -> threads.setStopHandler(handler));
  }

  /**
   * Follows the processes the target forks from now on (handler non-null), or stops
   * following (null): see {@link ForkHandler}. The target must be stopped. Children are
   * only seen while {@link #serveEvents} runs.
   */
  public void followForks(ForkHandler handler) {
    tracer.run(
        () -> {
          if (stopDepth == 0) throw new IllegalStateException("stop the target first");
          threads.followForks(handler);
        });
  }

  /**
   * Blocks until {@code until} is true or the process is gone, while the tracer thread
   * answers this target's stops at once in a blocking event loop (see {@link
   * Tracer#serveEvents}). Another thread ends it early by making {@code until} true and
   * calling {@link #wakeEvents()}; calls on this target from other threads meanwhile
   * (stop, read, detach) run between events.
   */
  public void serveEvents(BooleanSupplier until) {
    tracer.serveEvents(() -> !attached || !threads.anyLive() || until.getAsBoolean());
  }

  /** Makes a running {@link #serveEvents} loop check its condition again. */
  public void wakeEvents() {
    tracer.wake();
  }

  // ---- end ------------------------------------------------------------------------

  /**
   * Lets a launched target run and waits until it exits; returns its exit code, or 128 +
   * the signal that killed it (as a shell reports it).
   */
  public int waitExit() {
    tracer.run(
        () -> {
          stopDepth = 0;
          threads.resumeAll();
        });
    while (true) {
      int raw = tracer.call(() -> threads.live().isEmpty() ? threads.exitStatus() : Integer.MIN_VALUE);
      if (raw != Integer.MIN_VALUE) return shellCode(raw);
      LockSupport.parkNanos(1_000_000);
    }
  }

  private static int shellCode(int raw) {
    if (raw < 0) return 255;
    int sig = raw & 0x7f;
    return sig == 0 ? (raw >> 8) & 0xff : 128 + sig;
  }

  /** True until {@link #detach}: this object holds the process with ptrace. */
  public boolean isAttached() {
    return tracer.call(() -> attached);
  }

  /** True while the process still has a live thread. */
  public boolean isAlive() {
    return tracer.call(() -> !threads.live().isEmpty());
  }

  /** Lets the process go, as it was; signals kept for it are delivered. Idempotent. */
  public void detach() {
    tracer.run(
        () -> {
          if (!attached) return;
          attached = false;
          tracer.removePump(threads);
          try {
            Boost.during(() -> {
              if (!keepControlMapping) releaseControlPage();
              threads.detachAll();
            });
          } catch (ProcessExitedException e) {
            // nothing left to detach from
          } finally {
            memory.close();
            HoldLog.flush();
          }
        });
  }

  /**
   * Whether {@link #detach} leaves qpatch's control mapping ({@code /memfd:qpatch-control})
   * in the target; by default it is removed. The patch engine keeps it while a patch is
   * loaded, so that the next command on the target does not make it again (four system
   * calls, each a hold of a thread), and lets it go with the last patch.
   */
  public void keepControlMapping(boolean keep) {
    keepControlMapping = keep;
  }

  /** Best effort: a control page left behind is harmless, and the next attach retries. */
  private void releaseControlPage() {
    try {
      remote.releaseControlPage();
    } catch (io.qpatch.error.QpatchException e) {
      // the process is exiting, or a thread would not stop: leave the page
    }
  }

  @Override
  public void close() {
    detach();
  }

  private void requireAttached() {
    if (!attached) throw new IllegalStateException("detached from pid " + pid());
  }

  @Override
  public String toString() {
    return "Target[pid " + pid() + "]";
  }
}
