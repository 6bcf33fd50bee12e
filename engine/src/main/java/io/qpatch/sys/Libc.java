package io.qpatch.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.qpatch.error.SyscallException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Downcalls to glibc for process control: kill, tgkill, waitpid, process_vm_readv,
 * strerror. ptrace lives in {@link Ptrace}, process creation in {@link Spawn}. Every
 * call that can fail captures errno ({@code Linker.Option.captureCallState}) and turns
 * a failure into a {@link SyscallException} naming the call and the pid.
 */
public final class Libc {
  private Libc() {}

  static final Linker LINKER = Linker.nativeLinker();
  static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
  static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
  private static final VarHandle ERRNO =
      CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));

  /** One errno capture buffer per thread: the tracer thread calls these in its hot loop. */
  private static final ThreadLocal<MemorySegment> CAPTURE =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));

  static MethodHandle link(String name, FunctionDescriptor fd, Linker.Option... options) {
    MemorySegment address =
        LINKER
            .defaultLookup()
            .find(name)
            .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
    return LINKER.downcallHandle(address, fd, options);
  }

  static MemorySegment capture() {
    return CAPTURE.get();
  }

  static int errno(MemorySegment capture) {
    return (int) ERRNO.get(capture, 0L);
  }

  static final class Holder {
    static final MethodHandle STRERROR = link("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    static final MethodHandle KILL =
        link("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    static final MethodHandle TGKILL =
        link("tgkill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    static final MethodHandle WAITPID =
        link("waitpid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO);
    static final MethodHandle PROCESS_VM_READV =
        link(
            "process_vm_readv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG),
            CAPTURE_ERRNO);
  }

  /** {@code kill(2)}. */
  public static void kill(int pid, int signal) {
    MemorySegment cap = capture();
    int r;
    try {
      r = (int) Holder.KILL.invokeExact(cap, pid, signal);
    } catch (Throwable t) {
      throw linkageBug(t);
    }
    if (r < 0) throw fail("kill(" + Signals.name(signal) + ")", pid, errno(cap));
  }

  /** {@code tgkill(2)}: send a signal to one thread. */
  public static void tgkill(int tgid, int tid, int signal) {
    MemorySegment cap = capture();
    int r;
    try {
      r = (int) Holder.TGKILL.invokeExact(cap, tgid, tid, signal);
    } catch (Throwable t) {
      throw linkageBug(t);
    }
    if (r < 0) throw fail("tgkill(" + Signals.name(signal) + ")", tid, errno(cap));
  }

  /**
   * {@code waitpid(2)}. Returns the pid that changed state and stores its raw status in
   * {@code status[0]}, or 0 with {@link WaitFlags#WNOHANG} when nothing changed. EINTR is
   * retried.
   */
  public static int waitpid(int pid, int[] status, int options) {
    MemorySegment cap = capture();
    MemorySegment st = STATUS.get();
    while (true) {
      int r;
      try {
        r = (int) Holder.WAITPID.invokeExact(cap, pid, st, options);
      } catch (Throwable t) {
        throw linkageBug(t);
      }
      if (r >= 0) {
        status[0] = st.get(JAVA_INT, 0);
        return r;
      }
      int e = errno(cap);
      if (e != Errno.EINTR) throw fail("waitpid", pid, e);
    }
  }

  private static final ThreadLocal<MemorySegment> STATUS =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(JAVA_INT));

  /**
   * {@code process_vm_readv(2)} of one range into {@code dst}. Returns the number of
   * bytes read, which is short when the range runs into unmapped memory.
   */
  public static long processVmRead(int pid, long address, MemorySegment dst) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment local = arena.allocate(JAVA_LONG, 2);
      local.setAtIndex(JAVA_LONG, 0, dst.address());
      local.setAtIndex(JAVA_LONG, 1, dst.byteSize());
      MemorySegment remote = arena.allocate(JAVA_LONG, 2);
      remote.setAtIndex(JAVA_LONG, 0, address);
      remote.setAtIndex(JAVA_LONG, 1, dst.byteSize());
      MemorySegment cap = capture();
      long r;
      try {
        r = (long) Holder.PROCESS_VM_READV.invokeExact(cap, pid, local, 1L, remote, 1L, 0L);
      } catch (Throwable t) {
        throw linkageBug(t);
      }
      if (r < 0) throw fail("process_vm_readv at 0x" + Long.toHexString(address), pid, errno(cap));
      return r;
    }
  }

  /**
   * {@link #processVmRead(int, long, MemorySegment)} without allocating: {@code iovecs}
   * is the caller's 32-byte scratch for the local and the remote struct iovec. For hot
   * paths (a tracer reading a goroutine id at every probe hit). Returns the bytes read,
   * or -errno instead of throwing.
   */
  public static long processVmRead(int pid, long address, MemorySegment dst, MemorySegment iovecs) {
    iovecs.set(JAVA_LONG, 0, dst.address());
    iovecs.set(JAVA_LONG, 8, dst.byteSize());
    iovecs.set(JAVA_LONG, 16, address);
    iovecs.set(JAVA_LONG, 24, dst.byteSize());
    MemorySegment cap = capture();
    long r;
    try {
      r = (long) Holder.PROCESS_VM_READV.invokeExact(cap, pid, iovecs, 1L, iovecs.asSlice(16), 1L, 0L);
    } catch (Throwable t) {
      throw linkageBug(t);
    }
    return r < 0 ? -errno(cap) : r;
  }

  /** A failed call: the message names the call, the pid and errno. */
  static SyscallException fail(String operation, int pid, int errno) {
    String who = pid > 0 ? " on pid " + pid : "";
    return new SyscallException(
        operation, pid, errno, operation + " failed" + who + ": " + Errno.format(errno));
  }

  /** invokeExact only throws when our own descriptors are wrong: a bug, not a user error. */
  static AssertionError linkageBug(Throwable t) {
    return new AssertionError("native call failed to link or threw: " + t, t);
  }
}
