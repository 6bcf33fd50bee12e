package io.qpatch.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The scheduling policy of a thread: {@code sched_getscheduler(2)} and {@code
 * sched_setscheduler(2)}, whose pid names one thread on Linux, 0 the calling one, not the
 * process (sched(7)). Changing to a real-time policy needs CAP_SYS_NICE or an RLIMIT_RTPRIO
 * that allows it; without, the call fails with EPERM and nothing changes.
 */
public final class Sched {
  /** linux/sched.h */
  public static final int SCHED_OTHER = 0;

  public static final int SCHED_FIFO = 1;

  /** Runs only when no ordinary thread wants the CPU; an ordinary thread that wakes preempts it. */
  public static final int SCHED_IDLE = 5;

  /** {@code struct sched_param} (linux/sched/types.h): the priority alone. */
  static final StructLayout PARAM_LAYOUT = MemoryLayout.structLayout(JAVA_INT.withName("sched_priority"));

  static final VarHandle PRIORITY =
      PARAM_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("sched_priority"));

  private Sched() {}

  private static final class Holder {
    static final MethodHandle GET =
        Libc.link("sched_getscheduler", FunctionDescriptor.of(JAVA_INT, JAVA_INT), Libc.CAPTURE_ERRNO);
    static final MethodHandle SET = Libc.link("sched_setscheduler",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), Libc.CAPTURE_ERRNO);
  }

  /** The calling thread's policy ({@link #SCHED_OTHER}, {@link #SCHED_FIFO} ...), or -errno. */
  public static int policy() {
    MemorySegment cap = Libc.capture();
    int r;
    try {
      r = (int) Holder.GET.invokeExact(cap, 0);
    } catch (Throwable t) {
      throw Libc.linkageBug(t);
    }
    return r < 0 ? -Libc.errno(cap) : r;
  }

  /**
   * Sets the calling thread's policy and priority; returns 0, or -errno (EPERM: not allowed)
   * with nothing changed.
   */
  public static int setPolicy(int policy, int priority) {
    return setPolicy(0, policy, priority);
  }

  /** As {@link #setPolicy(int, int)}, for thread {@code tid} (0: the calling thread). */
  public static int setPolicy(int tid, int policy, int priority) {
    MemorySegment cap = Libc.capture();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment param = arena.allocate(PARAM_LAYOUT);
      PRIORITY.set(param, 0L, priority);
      int r;
      try {
        r = (int) Holder.SET.invokeExact(cap, tid, policy, param);
      } catch (Throwable t) {
        throw Libc.linkageBug(t);
      }
      return r < 0 ? -Libc.errno(cap) : 0;
    }
  }
}
