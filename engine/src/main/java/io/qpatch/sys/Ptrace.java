package io.qpatch.sys;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.qpatch.error.SyscallException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * ptrace(2) through glibc's wrapper. Linux accepts requests for a tracee only from the
 * thread that attached it, so every method here must run on the engine's tracer thread
 * (see {@code io.qpatch.proc.Tracer}); from any other thread they fail with ESRCH.
 *
 * <p>Request and option numbers are from linux/ptrace.h (uapi) and sys/ptrace.h.
 */
public final class Ptrace {
  public static final int TRACEME = 0;
  public static final int PEEKUSER = 3;
  public static final int POKEUSER = 6;
  public static final int CONT = 7;
  public static final int KILL = 8;
  public static final int SINGLESTEP = 9;
  public static final int GETREGS = 12;
  public static final int SETREGS = 13;
  public static final int GETFPREGS = 14;
  public static final int SETFPREGS = 15;
  public static final int DETACH = 17;
  public static final int SYSCALL = 24;
  public static final int SETOPTIONS = 0x4200;
  public static final int GETEVENTMSG = 0x4201;
  public static final int GETSIGINFO = 0x4202;
  public static final int SETSIGINFO = 0x4203;
  public static final int GETREGSET = 0x4204;
  public static final int SETREGSET = 0x4205;
  public static final int SEIZE = 0x4206;
  public static final int INTERRUPT = 0x4207;
  public static final int LISTEN = 0x4208;
  public static final int GETSIGMASK = 0x420a;
  public static final int SETSIGMASK = 0x420b;

  public static final int O_TRACESYSGOOD = 1;
  public static final int O_TRACEFORK = 1 << 1;
  public static final int O_TRACEVFORK = 1 << 2;
  public static final int O_TRACECLONE = 1 << 3;
  public static final int O_TRACEEXEC = 1 << 4;
  public static final int O_TRACEEXIT = 1 << 6;
  /** Kill every tracee when the tracer exits: never used for attach (the target is sacred). */
  public static final int O_EXITKILL = 1 << 20;

  public static final int EVENT_FORK = 1;
  public static final int EVENT_VFORK = 2;
  public static final int EVENT_CLONE = 3;
  public static final int EVENT_EXEC = 4;
  public static final int EVENT_VFORK_DONE = 5;
  public static final int EVENT_EXIT = 6;
  /** Group-stop or PTRACE_INTERRUPT stop of a seized tracee. */
  public static final int EVENT_STOP = 128;

  private Ptrace() {}

  private static final class Holder {
    // long ptrace(enum __ptrace_request request, ...): pid, addr and data are variadic.
    static final MethodHandle PTRACE =
        Libc.link(
            "ptrace",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1),
            Libc.CAPTURE_ERRNO);
  }

  /**
   * Issues one request. A failure becomes a {@link SyscallException} naming the request
   * and tid; callers that expect ESRCH (thread gone) catch it and check {@code errno()}.
   */
  public static long call(int request, int tid, long addr, long data) {
    MemorySegment cap = Libc.capture();
    long r;
    try {
      r = (long) Holder.PTRACE.invokeExact(cap, request, tid, addr, data);
    } catch (Throwable t) {
      throw Libc.linkageBug(t);
    }
    if (r == -1) {
      int errno = Libc.errno(cap);
      if (errno != 0) throw failure(request, tid, errno);
    }
    return r;
  }

  private static SyscallException failure(int request, int tid, int errno) {
    String op = "ptrace(" + requestName(request) + ")";
    if (errno == Errno.EPERM && (request == SEIZE || request == TRACEME)) {
      return new SyscallException(
          op,
          tid,
          errno,
          "cannot attach to pid "
              + tid
              + ": EPERM (Operation not permitted). Run as root or with CAP_SYS_PTRACE,"
              + " or allow it with 'sysctl kernel.yama.ptrace_scope=0'; another debugger"
              + " (gdb, strace) may already be attached");
    }
    if (errno == Errno.ESRCH && request == SEIZE) {
      return new SyscallException(op, tid, errno, "no process with pid " + tid);
    }
    return Libc.fail(op, tid, errno);
  }

  /** PTRACE_SEIZE with options: attach without stopping. */
  public static void seize(int tid, int options) {
    call(SEIZE, tid, 0, options);
  }

  public static void interrupt(int tid) {
    call(INTERRUPT, tid, 0, 0);
  }

  /** PTRACE_CONT, delivering {@code signal} (0 for none). */
  public static void cont(int tid, int signal) {
    call(CONT, tid, 0, signal);
  }

  public static void singleStep(int tid, int signal) {
    call(SINGLESTEP, tid, 0, signal);
  }

  /**
   * PTRACE_SYSCALL, delivering {@code signal} (0 for none): run to the next syscall-entry
   * or syscall-exit stop. With {@link #O_TRACESYSGOOD} those stops report SIGTRAP | 0x80.
   */
  public static void syscall(int tid, int signal) {
    call(SYSCALL, tid, 0, signal);
  }

  /** PTRACE_GETSIGMASK: the thread's blocked-signal mask (a 64-bit kernel sigset_t). */
  public static long getSigMask(int tid, MemorySegment scratch8) {
    call(GETSIGMASK, tid, 8, scratch8.address());
    return scratch8.get(JAVA_LONG, 0);
  }

  /** PTRACE_SETSIGMASK; the kernel never blocks SIGKILL or SIGSTOP whatever the mask. */
  public static void setSigMask(int tid, long mask, MemorySegment scratch8) {
    scratch8.set(JAVA_LONG, 0, mask);
    call(SETSIGMASK, tid, 8, scratch8.address());
  }

  /** PTRACE_DETACH, delivering {@code signal} (0 for none). */
  public static void detach(int tid, int signal) {
    call(DETACH, tid, 0, signal);
  }

  /** PTRACE_LISTEN: leave a seized tracee in group-stop, but let SIGCONT wake it. */
  public static void listen(int tid) {
    call(LISTEN, tid, 0, 0);
  }

  public static void setOptions(int tid, int options) {
    call(SETOPTIONS, tid, 0, options);
  }

  /** PTRACE_GETEVENTMSG: e.g. the new thread's tid after PTRACE_EVENT_CLONE. */
  public static long eventMessage(int tid, MemorySegment scratch8) {
    call(GETEVENTMSG, tid, 0, scratch8.address());
    return scratch8.get(JAVA_LONG, 0);
  }

  public static void getRegs(int tid, MemorySegment userRegs) {
    call(GETREGS, tid, 0, userRegs.address());
  }

  /**
   * PTRACE_GETFPREGS: the thread's user_fpregs_struct (sys/user.h, 512 bytes, the FXSAVE
   * layout: xmm_space at 160, 16 bytes a register) into {@code fpRegs}.
   */
  public static void getFpRegs(int tid, MemorySegment fpRegs) {
    call(GETFPREGS, tid, 0, fpRegs.address());
  }

  /** Bytes of user_fpregs_struct, and where XMM0 lies in it (sys/user.h). */
  public static final int FPREGS_BYTES = 512;
  public static final int FPREGS_XMM0 = 160;

  public static void setRegs(int tid, MemorySegment userRegs) {
    call(SETREGS, tid, 0, userRegs.address());
  }

  /**
   * PTRACE_GETREGSET of note type {@code type} (e.g. NT_X86_XSTATE) into {@code buffer};
   * {@code iovec} is a 16-byte scratch struct iovec. Returns the length the kernel filled.
   */
  public static long getRegSet(int tid, int type, MemorySegment buffer, MemorySegment iovec) {
    iovec.set(JAVA_LONG, 0, buffer.address());
    iovec.set(JAVA_LONG, 8, buffer.byteSize());
    call(GETREGSET, tid, type, iovec.address());
    return iovec.get(JAVA_LONG, 8);
  }

  /** PTRACE_SETREGSET of the first {@code length} bytes of {@code buffer}. */
  public static void setRegSet(
      int tid, int type, MemorySegment buffer, long length, MemorySegment iovec) {
    iovec.set(JAVA_LONG, 0, buffer.address());
    iovec.set(JAVA_LONG, 8, length);
    call(SETREGSET, tid, type, iovec.address());
  }

  /** PTRACE_GETSIGINFO into a 128-byte siginfo_t buffer. */
  public static void getSigInfo(int tid, MemorySegment siginfo) {
    call(GETSIGINFO, tid, 0, siginfo.address());
  }

  public static String requestName(int request) {
    return switch (request) {
      case TRACEME -> "PTRACE_TRACEME";
      case PEEKUSER -> "PTRACE_PEEKUSER";
      case POKEUSER -> "PTRACE_POKEUSER";
      case CONT -> "PTRACE_CONT";
      case KILL -> "PTRACE_KILL";
      case SINGLESTEP -> "PTRACE_SINGLESTEP";
      case GETREGS -> "PTRACE_GETREGS";
      case SETREGS -> "PTRACE_SETREGS";
      case GETFPREGS -> "PTRACE_GETFPREGS";
      case SETFPREGS -> "PTRACE_SETFPREGS";
      case DETACH -> "PTRACE_DETACH";
      case SYSCALL -> "PTRACE_SYSCALL";
      case SETOPTIONS -> "PTRACE_SETOPTIONS";
      case GETEVENTMSG -> "PTRACE_GETEVENTMSG";
      case GETSIGINFO -> "PTRACE_GETSIGINFO";
      case SETSIGINFO -> "PTRACE_SETSIGINFO";
      case GETREGSET -> "PTRACE_GETREGSET";
      case SETREGSET -> "PTRACE_SETREGSET";
      case SEIZE -> "PTRACE_SEIZE";
      case GETSIGMASK -> "PTRACE_GETSIGMASK";
      case SETSIGMASK -> "PTRACE_SETSIGMASK";
      case INTERRUPT -> "PTRACE_INTERRUPT";
      case LISTEN -> "PTRACE_LISTEN";
      default -> "request 0x" + Integer.toHexString(request);
    };
  }
}
