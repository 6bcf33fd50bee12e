package io.qpatch.cli;

import io.qpatch.fleet.Fleet;
import io.qpatch.patch.PatchOptions;
import io.qpatch.patch.PatchStatus;
import io.qpatch.patch.Patcher;
import io.qpatch.patch.Rehearsal;
import io.qpatch.proc.Target;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.List;

/**
 * The patch commands ({@code -l -a -r -q}, {@code apply}) on the engine's {@link Patcher}.
 * Results go to stdout, progress (what a rollback waits for, leftovers tidied) to stderr.
 */
final class PatchCommands {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());

  private final Io io;

  PatchCommands(Io io) {
    this.io = io;
  }

  /** {@code qpatch -o PATCH.o -p PID -l|-a|-r|-q}. */
  void patch(PatchAction action, Optional<Path> object, int pid) {
    if (action != PatchAction.QUERY) rehearse();
    try (Target target = Target.attach(pid)) {
      Patcher patcher = new Patcher(target, options());
      switch (action) {
        case LOAD -> loaded(patcher.load(object.orElseThrow()), pid);
        case ACTIVATE -> activated(patcher.activate(object.orElseThrow()), pid);
        case ROLLBACK -> rolledBack(patcher.rollback(object.orElseThrow()), pid);
        case QUERY -> query(patcher, object, pid);
      }
    }
  }

  /** {@code qpatch apply -o PATCH.o -p PID}. */
  void apply(Path object, int pid) {
    rehearse();
    try (Target target = Target.attach(pid)) {
      activated(new Patcher(target, options()).apply(object), pid);
    }
  }

  /** The patch commands on a selection of processes ({@link FleetCommands}); 0 when every one ended as asked. */
  int fleet(FleetCommands.Request r) {
    if (r.action() != Fleet.Action.QUERY && !r.dryRun()) rehearse();
    return new FleetCommands(io).run(r, options());
  }

  /**
   * A rehearsal on a scratch process first, so that the target's stops do not pay for
   * this JVM's first run of the code ({@link Rehearsal}); QPATCH_NO_REHEARSAL=1 skips it.
   */
  private static void rehearse() {
    long ms = Rehearsal.once();
    if ("1".equals(System.getenv("QPATCH_TRACE_STOPS"))) System.err.println("qpatch-rehearsal " + ms + " ms");
  }

  private PatchOptions options() {
    PrintStream err = io.err();
    return PatchOptions.DEFAULT.withProgress(message -> {
      err.println("qpatch: " + message);
      err.flush();
    });
  }

  private void loaded(PatchStatus s, int pid) {
    io.out().println(loadedLine(s.name(), pid, described(s)));
  }

  private void activated(PatchStatus s, int pid) {
    io.out().println(activatedLine(s.name(), pid, described(s)));
  }

  /** "loaded cpatch.o into pid 12, not active yet: replace sleep (libc.so.6)": the seed's line, one process or many. */
  static String loadedLine(String patch, int pid, List<String> functions) {
    return "loaded " + patch + " into pid " + pid + ", not active yet" + functions(functions);
  }

  /** "activated cpatch.o in pid 12: replace sleep (libc.so.6)". */
  static String activatedLine(String patch, int pid, List<String> functions) {
    return "activated " + patch + " in pid " + pid + functions(functions);
  }

  private static List<String> described(PatchStatus s) {
    return s.functions().stream().map(PatchStatus.FunctionStatus::describe).toList();
  }

  private void rolledBack(Patcher.RollbackResult r, int pid) {
    String rest = r.stillInUse().map(busy -> "; its memory stays mapped while " + busy
        + " (the next qpatch command on pid " + pid + " frees it)").orElse("");
    io.out().println("rolled back " + r.patch() + " in pid " + pid + rest);
  }

  /** ": replace sleep (libc.so.6), hook malloc (libc.so.6)", or that it redirects none. */
  static String functions(List<String> described) {
    return described.isEmpty() ? " (it redirects no function)" : ": " + String.join(", ", described);
  }

  private void query(Patcher patcher, Optional<Path> object, int pid) {
    if (object.isPresent()) {
      print(patcher.query(object.get()));
      return;
    }
    Patcher.Query q = patcher.query();
    if (q.patches().isEmpty() && q.problems().isEmpty()) io.out().println("no patch in pid " + pid);
    q.patches().forEach(this::print);
    q.problems().forEach(p -> io.out().println("problem: " + p));
  }

  /** One line per patch, then one per function it takes over. */
  private void print(PatchStatus s) {
    io.out().printf("%s  %s  sha256 %s  loaded %s  %s%n", s.name(), s.state().description(),
        s.shortHash(), TIME.format(s.loadedAt()), s.path());
    for (PatchStatus.FunctionStatus f : s.functions()) {
      io.out().printf("  %-7s %s (%s) at 0x%x -> 0x%x: %s%n", f.kind().word(), f.name(), f.module(),
          f.address(), f.replacement(), f.entry());
    }
    if (!s.note().isEmpty()) io.out().println("  note: " + s.note());
  }
}
