package io.qpatch.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.qpatch.error.SyscallException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * perf_event_open(2) and what goes with it: the attribute struct, the ioctls, and the
 * ring buffer mapping. glibc has no wrapper; the call goes through {@code syscall(2)}.
 * Numbers and layouts from linux/perf_event.h (uapi) and syscall_64.tbl.
 */
public final class PerfEvent {

  /** perf_event_attr up to PERF_ATTR_SIZE_VER7 (128 bytes, through sig_data). */
  public static final StructLayout ATTR = MemoryLayout.structLayout(
      JAVA_INT.withName("type"), JAVA_INT.withName("size"), JAVA_LONG.withName("config"),
      JAVA_LONG.withName("sample_period"), JAVA_LONG.withName("sample_type"),
      JAVA_LONG.withName("read_format"), JAVA_LONG.withName("flags"),
      JAVA_INT.withName("wakeup_events"), JAVA_INT.withName("bp_type"),
      JAVA_LONG.withName("config1"), JAVA_LONG.withName("config2"),
      JAVA_LONG.withName("branch_sample_type"), JAVA_LONG.withName("sample_regs_user"),
      JAVA_INT.withName("sample_stack_user"), JAVA_INT.withName("clockid"),
      JAVA_LONG.withName("sample_regs_intr"), JAVA_INT.withName("aux_watermark"),
      JAVA_SHORT.withName("sample_max_stack"), JAVA_SHORT.withName("reserved_2"),
      JAVA_INT.withName("aux_sample_size"), JAVA_INT.withName("reserved_3"),
      JAVA_LONG.withName("sig_data"));

  public static final VarHandle TYPE = field("type");
  public static final VarHandle SIZE = field("size");
  public static final VarHandle CONFIG = field("config");
  public static final VarHandle SAMPLE_PERIOD = field("sample_period");
  public static final VarHandle SAMPLE_TYPE = field("sample_type");
  public static final VarHandle FLAGS = field("flags");
  public static final VarHandle WAKEUP_EVENTS = field("wakeup_events");
  public static final VarHandle CONFIG1 = field("config1");
  public static final VarHandle CONFIG2 = field("config2");
  public static final VarHandle REGS_USER_MASK = field("sample_regs_user");
  public static final VarHandle CLOCKID = field("clockid");

  // enum perf_event_sample_format
  public static final long SAMPLE_IP = 1L;
  public static final long SAMPLE_TID = 1L << 1;
  public static final long SAMPLE_TIME = 1L << 2;
  public static final long SAMPLE_RAW = 1L << 10;
  public static final long SAMPLE_REGS_USER = 1L << 12;
  /** perf_type_id PERF_TYPE_TRACEPOINT: config is a tracefs event's id. */
  public static final int TYPE_TRACEPOINT = 2;

  // perf_event_attr flag bits, in declaration order of the bitfield
  public static final long FLAG_DISABLED = 1L;
  public static final long FLAG_EXCLUDE_KERNEL = 1L << 5;
  public static final long FLAG_EXCLUDE_HV = 1L << 6;
  public static final long FLAG_USE_CLOCKID = 1L << 25;

  // enum perf_event_type
  public static final int RECORD_LOST = 2;
  public static final int RECORD_SAMPLE = 9;

  // ioctls: _IO('$', n) and _IOR('$', 7, __u64)
  public static final long IOC_ENABLE = 0x2400;
  public static final long IOC_DISABLE = 0x2401;
  public static final long IOC_SET_OUTPUT = 0x2405;

  /** struct perf_event_mmap_page: data_head and data_tail sit at byte 1024 and 1032. */
  public static final long DATA_HEAD = 1024;
  public static final long DATA_TAIL = 1032;

  public static final int CLOCK_MONOTONIC = 1;
  private static final int PROT_READ_WRITE = 0x1 | 0x2;
  private static final int MAP_SHARED = 0x01;

  private PerfEvent() {}

  private static VarHandle field(String name) {
    return ATTR.varHandle(MemoryLayout.PathElement.groupElement(name));
  }

  private static final class Holder {
    // long syscall(long number, ...): the variadic words are passed as longs, as the kernel reads them.
    static final MethodHandle SYSCALL = Libc.link("syscall",
        FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
        Linker.Option.firstVariadicArg(1), Libc.CAPTURE_ERRNO);
    static final MethodHandle IOCTL = Libc.link("ioctl",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG),
        Linker.Option.firstVariadicArg(2), Libc.CAPTURE_ERRNO);
    static final MethodHandle MMAP = Libc.link("mmap",
        FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG),
        Libc.CAPTURE_ERRNO);
    static final MethodHandle MUNMAP = Libc.link("munmap",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), Libc.CAPTURE_ERRNO);
    static final MethodHandle CLOSE = Libc.link("close",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT), Libc.CAPTURE_ERRNO);
  }

  /** perf_event_open(attr, pid, cpu, group_fd, flags); returns the new fd. */
  public static int open(MemorySegment attr, int pid, int cpu, int groupFd, long flags) {
    MemorySegment cap = Libc.capture();
    long r;
    try {
      r = (long) Holder.SYSCALL.invokeExact(cap, (long) Syscall.PERF_EVENT_OPEN, attr.address(), (long) pid,
          (long) cpu, (long) groupFd, flags);
    } catch (Throwable t) {
      throw Libc.linkageBug(t);
    }
    if (r < 0) throw Libc.fail("perf_event_open", pid, Libc.errno(cap));
    return (int) r;
  }

  /** ioctl(fd, request, arg) on a perf event fd. */
  public static void ioctl(int fd, long request, long arg) {
    MemorySegment cap = Libc.capture();
    int r;
    try {
      r = (int) Holder.IOCTL.invokeExact(cap, fd, request, arg);
    } catch (Throwable t) {
      throw Libc.linkageBug(t);
    }
    if (r < 0) throw Libc.fail("ioctl(perf event, 0x" + Long.toHexString(request) + ")", 0, Libc.errno(cap));
  }

  /** Maps {@code length} bytes of a perf event fd shared, read-write (the ring buffer). */
  @SuppressWarnings("restricted") // the kernel maps exactly length bytes at the address it returns
  public static MemorySegment mapRing(int fd, long length) {
    MemorySegment cap = Libc.capture();
    MemorySegment r;
    try {
      r = (MemorySegment) Holder.MMAP.invokeExact(cap, MemorySegment.NULL, length, PROT_READ_WRITE,
          MAP_SHARED, fd, 0L);
    } catch (Throwable t) {
      throw Libc.linkageBug(t);
    }
    if (r.address() == -1L) throw Libc.fail("mmap(perf ring buffer)", 0, Libc.errno(cap));
    return r.reinterpret(length);
  }

  public static void unmap(MemorySegment ring) {
    try {
      int ignored = (int) Holder.MUNMAP.invokeExact(Libc.capture(), ring, ring.byteSize());
    } catch (Throwable t) {
      throw Libc.linkageBug(t);
    }
  }

  public static void close(int fd) {
    try {
      int ignored = (int) Holder.CLOSE.invokeExact(Libc.capture(), fd);
    } catch (Throwable t) {
      throw Libc.linkageBug(t);
    }
  }

  /** Thrown-by-errno check for callers that want to tell EACCES/EPERM apart. */
  public static boolean isPermission(SyscallException e) {
    return e.errno() == Errno.EPERM || e.errno() == Errno.EACCES;
  }
}
