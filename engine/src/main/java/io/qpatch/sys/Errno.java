package io.qpatch.sys;

import java.lang.foreign.MemorySegment;

/** errno values (asm-generic/errno-base.h, errno.h) used in qpatch's decisions and messages. */
public final class Errno {
  public static final int EPERM = 1;
  public static final int ENOENT = 2;
  public static final int ESRCH = 3;
  public static final int EINTR = 4;
  public static final int EIO = 5;
  public static final int ECHILD = 10;
  public static final int EAGAIN = 11;
  public static final int ENOMEM = 12;
  public static final int EACCES = 13;
  public static final int EFAULT = 14;
  public static final int EBUSY = 16;
  public static final int EEXIST = 17;
  public static final int EINVAL = 22;
  public static final int ENOSYS = 38;

  private Errno() {}

  /** The symbolic name, e.g. "ESRCH", or "errno 123" for one qpatch has no name for. */
  public static String name(int errno) {
    return switch (errno) {
      case EPERM -> "EPERM";
      case ENOENT -> "ENOENT";
      case ESRCH -> "ESRCH";
      case EINTR -> "EINTR";
      case EIO -> "EIO";
      case ECHILD -> "ECHILD";
      case EAGAIN -> "EAGAIN";
      case ENOMEM -> "ENOMEM";
      case EACCES -> "EACCES";
      case EFAULT -> "EFAULT";
      case EBUSY -> "EBUSY";
      case EEXIST -> "EEXIST";
      case EINVAL -> "EINVAL";
      case ENOSYS -> "ENOSYS";
      default -> "errno " + errno;
    };
  }

  /** libc's text for errno, e.g. "No such process". */
  public static String describe(int errno) {
    try {
      MemorySegment s = (MemorySegment) Libc.Holder.STRERROR.invokeExact(errno);
      return s.reinterpret(256).getString(0);
    } catch (Throwable t) {
      throw new AssertionError("strerror cannot fail", t);
    }
  }

  /** "ESRCH (No such process)". */
  public static String format(int errno) {
    return name(errno) + " (" + describe(errno) + ")";
  }
}
