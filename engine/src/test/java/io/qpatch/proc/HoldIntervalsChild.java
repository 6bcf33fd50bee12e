package io.qpatch.proc;

/**
 * Run in a child JVM by {@link HoldIntervalsTest} with QPATCH_TRACE_STOPS=1: attaches to
 * the target, makes three remote getpid calls, each with one thread held, and detaches
 * (the control page made before the first and removed at the detach). qpatch prints every
 * interval in which it held a thread ({@link HoldLog}) on stderr at the detach.
 *
 * <p>Argument: the target's pid.
 */
public final class HoldIntervalsChild {
  private HoldIntervalsChild() {}

  public static void main(String[] args) {
    int pid = Integer.parseInt(args[0]);
    try (Target t = Target.attach(pid)) {
      for (int i = 0; i < 3; i++) {
        long got = t.whileOneHeld(() -> t.syscall(io.qpatch.sys.Syscall.GETPID));
        if (got != pid) {
          System.err.println("getpid returned " + got);
          System.exit(3);
        }
      }
    }
  }
}
