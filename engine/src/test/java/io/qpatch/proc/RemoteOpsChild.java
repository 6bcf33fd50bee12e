package io.qpatch.proc;

/**
 * Run in a child JVM by {@link RemoteKillTest}, which SIGKILLs it: attaches to the target
 * and makes remote getpid calls and remote calls of {@code work} (which sleeps about 1 ms)
 * until killed, detaching and attaching again every few operations so that the control
 * page is made and removed again and again: in even rounds with the thread held alone
 * ({@link Target#whileOneHeld}, the page made before, each of its system calls a hold of
 * its own; the first operation starts with a remote mprotect, a memory call that lets the
 * thread go for the call when it is not in a restartable sleep), in odd rounds inside a
 * stop of every thread (the page made in the stop). Prints "ops N" after each pair; any wrong
 * result ends it with exit code 3. With a signal number, it also sends that signal to the
 * target's thread while it holds it stopped, printing "sending" before and "sent" after.
 *
 * <p>Arguments: target pid, address of {@code long work(long)} in hex, optional signal.
 */
public final class RemoteOpsChild {
  private RemoteOpsChild() {}

  public static void main(String[] args) {
    int pid = Integer.parseInt(args[0]);
    long work = Long.parseLong(args[1], 16);
    int signal = args.length > 2 ? Integer.parseInt(args[2]) : 0;
    for (long n = 0, round = 0; ; round++) {
      try (Target t = Target.attach(pid)) {
        for (int i = 0; i < 4; i++, n++) {
          long k = n;
          boolean first = i == 0 && round % 2 == 0;
          Runnable ops = () -> {
            if (signal != 0) send(pid, signal);
            // a memory call, made with the thread let go when it can (RemoteSyscall.released):
            // the page of work() made r-x again, as it is
            if (first) t.mprotect(work & ~4095L, 4096, 5);
            check("getpid", t.syscall(io.qpatch.sys.Syscall.GETPID), pid);
            check("work(" + k + ")", t.callFunction(work, k), 3 * k + 1);
          };
          if (round % 2 == 0) {
            t.whileOneHeld(() -> {
              ops.run();
              return null;
            });
          } else {
            try (Target.Stopped s = t.stop()) {
              ops.run();
            }
          }
          System.out.println("ops " + n);
          System.out.flush();
        }
      }
    }
  }

  private static void send(int pid, int signal) {
    System.out.println("sending");
    System.out.flush();
    io.qpatch.sys.Libc.tgkill(pid, pid, signal);
    System.out.println("sent");
    System.out.flush();
  }

  private static void check(String what, long got, long want) {
    if (got == want) return;
    System.err.println(what + " returned " + got + ", expected " + want);
    System.exit(3);
  }
}
