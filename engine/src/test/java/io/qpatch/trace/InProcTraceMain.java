package io.qpatch.trace;

import io.qpatch.proc.Target;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A separate JVM for InProcBackendTest: traces PID's functions matching REGEX with the
 * inproc backend and a ring of CAPACITY records, printing "hit N" per call and sleeping
 * MILLIS after each (a reader slower than the program, so the ring stays full), until it
 * is killed.
 */
public final class InProcTraceMain {
  private InProcTraceMain() {}

  public static void main(String[] args) {
    int pid = Integer.parseInt(args[0]);
    Selection sel = new Selection(Optional.of(Pattern.compile(args[1])), Optional.empty(), false, true);
    int capacity = Integer.parseInt(args[2]);
    long millis = Long.parseLong(args[3]);
    PrintStream out = new PrintStream(System.out, true);
    Target target = Target.attach(pid);
    ProbePlan plan = ProcessPlanner.plan(pid, sel, false);
    InProcBackend backend = new InProcBackend(target, () -> Files.exists(Path.of("/proc", args[0])), capacity, false);
    long[] hits = {0};
    HitConsumer slow = (site, tid, time, regs) -> {
      out.println("hit " + ++hits[0]);
      try {
        Thread.sleep(millis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
    if (!backend.install(plan, slow).isEmpty()) throw new IllegalStateException("a probe was refused");
    target.detach();
    backend.run();
  }
}
