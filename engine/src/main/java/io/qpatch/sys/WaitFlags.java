package io.qpatch.sys;

/** waitpid option bits (bits/waitflags.h). */
public final class WaitFlags {
  public static final int WNOHANG = 1;
  public static final int WUNTRACED = 2;
  public static final int WCONTINUED = 8;
  /** Wait for all children, clone or not: needed to wait for individual threads. */
  public static final int __WALL = 0x40000000;

  private WaitFlags() {}
}
