package io.qpatch.trace;

import io.qpatch.error.BadInputException;
import io.qpatch.error.ProcessExitedException;
import io.qpatch.error.RefusedException;
import io.qpatch.proc.Target;
import io.qpatch.sys.Libc;
import io.qpatch.sys.Signals;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One trace of one process: plans the probes of its executable, plants them with a
 * backend, delivers events to the sinks until the process exits or {@link #stop()} is
 * called, then takes the probes out and lets the process go.
 *
 * <p>The process is held with ptrace while probes are planted (a launched program at its
 * first instruction). The ptrace backend keeps it; the uprobe and inproc backends let it
 * go at once (the kernel, or the code planted in it, does the rest) and, for a launched
 * program, collect its exit as its parent. Launched programs' exit statuses are returned
 * by {@link #run()}; attached processes are left running. A session {@link #on} a target
 * the caller holds leaves it attached.
 */
public final class TraceSession {
  private final Target target;
  private final boolean launched;
  private final TraceConfig config;
  private final ProbePlan plan;
  private final EventAssembler assembler;
  private final Backend backend;
  private final ChildProcess child;
  /** The caller's target ({@link #on}): never killed, detached or waited for here. */
  private final boolean borrowed;
  private volatile boolean stopRequested;
  /** Libraries mapped while the trace runs: probed when the filter names their functions. */
  private final LibraryWatch libraryWatch;

  /** Above this many perf events the default backend is ptrace (see {@link #defaultBackend}). */
  private static final int UPROBE_DEFAULT_MAX_EVENTS = 128;

  private TraceSession(Target target, TraceConfig config, boolean borrowed) {
    this.target = target;
    this.borrowed = borrowed;
    this.launched = target.isLaunched();
    this.config = config;
    this.child = launched ? new ChildProcess(target.pid()) : null;
    try {
      boolean libraries = config.selection().filter().isPresent();
      if (launched && libraries) EntryHold.runToEntry(target);
      java.util.Set<String> mapped = libraries ? LibraryWatch.mappedFiles(target.pid()) : java.util.Set.of();
      this.plan = ProcessPlanner.plan(target.pid(), config.selection(), config.decodeArgs());
      TargetMemory memory = new ProcessMemory(target.pid(), target);
      this.assembler = new EventAssembler(config.sinks(), memory, GoidReader.of(plan), plan.argDecoder());
      assembler.start(target.pid());
      this.backend = installBackend();
      java.util.Set<String> planned = new java.util.HashSet<>(mapped);
      for (TracedFunction f : plan.functions()) if (f.file() != null) planned.add(f.file());
      this.libraryWatch = libraries ? new LibraryWatch(target, config.selection(), backend, config.messages(),
          planned, plan.functions().size()) : null;
      if (!backend.holdsTheTarget()) target.detach();
    } catch (RuntimeException e) {
      abandon(e);
      throw e;
    }
  }

  /** Starts {@code argv} traced from its first instruction (it waits for {@link #run()}). */
  public static TraceSession launch(List<String> argv, TraceConfig config) {
    return new TraceSession(Target.launch(argv), config, false);
  }

  /** Attaches to the running process {@code pid}; it runs on while probes are planted. */
  public static TraceSession attach(int pid, TraceConfig config) {
    return new TraceSession(Target.attach(pid), config, false);
  }

  /**
   * Traces {@code target}, which stays the caller's: always with the ptrace backend (the
   * uprobe backend would detach it), and {@link #run()} leaves it attached and running,
   * untraced. A launched target still held at its first instruction is let run.
   */
  public static TraceSession on(Target target, TraceConfig config) {
    TraceConfig ptrace = new TraceConfig(config.selection(), Optional.of("ptrace"),
        config.decodeArgs(), config.sinks(), config.messages());
    return new TraceSession(target, ptrace, true);
  }

  public int pid() {
    return target.pid();
  }

  public ProbePlan plan() {
    return plan;
  }

  public String backendName() {
    return backend.name();
  }

  /** Flushes every sink's buffered output (from any thread: a periodic timer). */
  public void flush() {
    for (EventSink s : config.sinks()) s.flush();
  }

  /**
   * Traces until the process exits or {@link #stop()}; then removes the probes and lets
   * the process go. Returns a launched program's exit status (128 + signal when killed),
   * or 0 for an attached process.
   */
  public int run() {
    try {
      if (launched && backend.holdsTheTarget()) target.resume();
      if (!stopRequested) backend.run();
      if (libraryWatch != null) libraryWatch.stopPlanning();
      removeProbes();
    } finally {
      if (libraryWatch != null) libraryWatch.close();
      assembler.finish(new TraceReport(backend.name(), backend.stats(), System.nanoTime()));
      reportLosses();
    }
    if (borrowed) return 0;
    if (!launched) {
      target.detach();
      return 0;
    }
    if (backend.holdsTheTarget() && !target.isAlive()) {
      int status = target.waitExit();
      target.detach(); // unregisters it from the tracer thread
      return status;
    }
    target.detach();
    return child.waitExit();
  }

  /** From any thread: ends {@link #run()} soon (probes removed, process let go). */
  public void stop() {
    stopRequested = true;
    backend.requestStop();
  }

  private void removeProbes() {
    try {
      if (!backend.holdsTheTarget() || target.isAlive()) backend.remove();
    } catch (ProcessExitedException e) {
      // gone while we removed probes: nothing left to restore
    }
  }

  /**
   * The backend asked for, which fails with the reason when it cannot give what is asked;
   * else the fastest that gives all: inproc when it can and would probe every function
   * (its analysis is kept for the install), else {@link #defaultBackend}. Probes planted.
   */
  private Backend installBackend() {
    if (config.backend().isPresent()) {
      String wanted = config.backend().get();
      String why = cannotHonour(wanted);
      if (why != null) throw new RefusedException(why);
      if (wanted.equals("uprobe")) warnIfSlowToSetUp();
      return installed(create(wanted));
    }
    if (cannotHonour("inproc") == null) {
      InProcBackend inproc = (InProcBackend) create("inproc");
      if (inproc.refusals(plan).isEmpty()) return installed(inproc);
    }
    String choice = defaultBackend();
    if (choice.equals("uprobe")) {
      try {
        return installed(create("uprobe"));
      } catch (RefusedException e) { // not permitted for this user, say
        config.messages().println("gotrace: " + e.getMessage() + "; using the ptrace backend");
      }
    }
    return installed(create("ptrace"));
  }

  private Backend create(String name) {
    return switch (name) {
      case "inproc" -> new InProcBackend(target, this::alive, config.lossy());
      case "uprobe" -> new UprobeBackend(target.pid(), this::alive);
      case "ptrace" -> new PtraceBackend(target);
      default -> throw new BadInputException("unknown backend '" + name + "': use ptrace, uprobe or inproc");
    };
  }

  /** Why backend {@code name} cannot give the whole of this trace here, or null. */
  private String cannotHonour(String name) {
    return switch (name) {
      case "inproc" -> {
        String why = InProcBackend.cannotHonour(plan);
        yield why != null ? why : InProcBackend.unavailableReason();
      }
      case "uprobe" -> {
        String why = UprobeBackend.unavailableReason();
        yield why != null ? why : UprobeBackend.cannotHonour(plan);
      }
      case "ptrace" -> null;
      default -> throw new BadInputException("unknown backend '" + name + "': use ptrace, uprobe or inproc");
    };
  }

  /**
   * The default when inproc (~1 us a call, tried first by {@link #installBackend}) cannot
   * give all that is asked or would not probe every planned function (it refuses a few,
   * see {@link InProcSite}): uprobe (~18 us) when the kernel has it, it can, and the probes
   * are few; else ptrace (~30 us), which probes everything. Every uprobe costs the kernel an RCU grace
   * period to remove (see {@link UprobeBackend}), which makes thousands of them (a whole
   * Go runtime) take minutes to set up and tear down.
   */
  private String defaultBackend() {
    if (cannotHonour("uprobe") != null) return "ptrace";
    return UprobeBackend.eventsFor(plan) <= UPROBE_DEFAULT_MAX_EVENTS ? "uprobe" : "ptrace";
  }

  private void warnIfSlowToSetUp() {
    int events = UprobeBackend.eventsFor(plan);
    if (events > UPROBE_DEFAULT_MAX_EVENTS) {
      config.messages().println("gotrace: " + events + " uprobe events (probes x CPUs): the kernel"
          + " removes each in about 0.1 s, so ending this trace will take a while; narrow it"
          + " with a filter or use the ptrace backend");
    }
  }

  private Backend installed(Backend b) {
    Map<ProbeSite, String> refused = b.install(plan, assembler);
    report(b, refused);
    for (String note : b.notes()) config.messages().println("gotrace: " + note);
    return b;
  }

  /** For the uprobe backend, which has no ptrace to tell it. */
  private boolean alive() {
    if (child != null) return child.alive();
    return !Target.hasExited(target.pid());
  }

  private void abandon(RuntimeException cause) {
    if (borrowed) return;
    try {
      if (launched) Libc.kill(target.pid(), Signals.SIGKILL);
      target.detach();
      if (launched) child.waitExit();
    } catch (RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  /** Functions the backend could not probe that are named with their reason; the rest counted. */
  private static final int NAMED_REFUSALS = 3;

  private void report(Backend b, Map<ProbeSite, String> refused) {
    Map<TracedFunction, String> notProbed = new java.util.LinkedHashMap<>();
    for (Map.Entry<ProbeSite, String> e : refused.entrySet()) notProbed.putIfAbsent(e.getKey().function(), e.getValue());
    long probed = plan.sites().stream()
        .filter(s -> s.kind() == ProbeSite.Kind.CALL && !notProbed.containsKey(s.function())).count();
    int skipped = plan.skipped().size() + notProbed.size();
    config.messages().println("gotrace: " + plan.description() + ", " + probed + " probed with "
        + b.name() + (skipped == 0 ? "" : ", " + skipped + " could not be probed"));
    if (notProbed.isEmpty()) return;
    StringBuilder named = new StringBuilder("gotrace: not probed with " + b.name() + ": ");
    int n = 0;
    for (Map.Entry<TracedFunction, String> e : notProbed.entrySet()) {
      if (n++ == NAMED_REFUSALS) break;
      if (n > 1) named.append("; ");
      named.append(e.getKey().name()).append(" (").append(e.getValue()).append(')');
    }
    if (notProbed.size() > NAMED_REFUSALS) named.append("; and ").append(notProbed.size() - NAMED_REFUSALS).append(" more");
    config.messages().println(named);
  }

  private void reportLosses() {
    BackendStats stats = backend.stats();
    if (stats.lost() > 0) {
      config.messages().println("gotrace: " + stats.lost() + " events were lost (the "
          + backend.name() + " ring buffers overflowed); the trace above is incomplete");
    }
  }
}
