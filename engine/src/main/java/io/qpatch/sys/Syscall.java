package io.qpatch.sys;

/**
 * x86-64 Linux system call numbers, the one place they are written down
 * (arch/x86/entry/syscalls/syscall_64.tbl). Callers put them in emitted code, in a
 * remote thread's rax, or pass them to syscall(2).
 */
public final class Syscall {
  public static final int CLOSE = 3;
  public static final int MMAP = 9;
  public static final int MPROTECT = 10;
  public static final int MUNMAP = 11;
  public static final int RT_SIGRETURN = 15;
  public static final int SCHED_YIELD = 24;
  public static final int MREMAP = 25;
  public static final int MADVISE = 28;
  public static final int GETPID = 39;
  public static final int FTRUNCATE = 77;
  public static final int GETTID = 186;
  public static final int PERF_EVENT_OPEN = 298;
  public static final int PROCESS_VM_READV = 310;
  public static final int MEMFD_CREATE = 319;

  private Syscall() {}
}
