package io.qpatch.trace;

import io.qpatch.arch.x86_64.Decoder;
import io.qpatch.elf.ElfFile;
import io.qpatch.error.BadInputException;
import io.qpatch.error.ProcessExitedException;
import io.qpatch.proc.Target;
import io.qpatch.sys.Libc;
import io.qpatch.symbols.Module;
import io.qpatch.symbols.ProcessSymbols;
import io.qpatch.trace.go.GoBinary;
import java.util.List;
import java.util.Map;

/**
 * One trace of one process: plans the probes of its executable, plants them with a
 * backend, delivers events to the sinks until the process exits or {@link #stop()} is
 * called, then takes the probes out and lets the process go.
 *
 * <p>Launched programs run traced from their first instruction and their exit status is
 * returned by {@link #run()}; attached processes are left running when the trace stops.
 */
public final class TraceSession {
  private final Target target;
  private final TraceConfig config;
  private final ProbePlan plan;
  private final Backend backend;
  private final EventAssembler assembler;
  private volatile boolean stopRequested;

  private TraceSession(Target target, TraceConfig config) {
    this.target = target;
    this.config = config;
    try {
      this.plan = plan(target.pid(), config.selection());
      this.backend = Backends.choose(config.backend(), target, config.messages());
      TargetMemory memory = new ProcessMemory(target.pid(), target);
      this.assembler = new EventAssembler(config.sinks(), memory, plan.goidOffset(), null);
      assembler.start(target.pid());
      report(backend.install(plan, assembler));
    } catch (RuntimeException e) {
      abandon(e);
      throw e;
    }
  }

  /** Starts {@code argv} traced from its first instruction (it waits for {@link #run()}). */
  public static TraceSession launch(List<String> argv, TraceConfig config) {
    return new TraceSession(Target.launch(argv), config);
  }

  /** Attaches to the running process {@code pid}; it runs on while probes are planted. */
  public static TraceSession attach(int pid, TraceConfig config) {
    return new TraceSession(Target.attach(pid), config);
  }

  public int pid() {
    return target.pid();
  }

  public ProbePlan plan() {
    return plan;
  }

  /** Flushes every sink's buffered output (from any thread: a periodic timer). */
  public void flush() {
    for (EventSink s : config.sinks()) s.flush();
  }

  public String backendName() {
    return backend.name();
  }

  /**
   * Traces until the process exits or {@link #stop()}; then removes the probes and lets
   * the process go. Returns a launched program's exit status (128 + signal when killed),
   * or 0 for an attached process.
   */
  public int run() {
    boolean launched = target.isLaunched();
    try {
      if (launched) target.resume();
      if (!stopRequested) backend.run();
      if (target.isAlive()) backend.remove();
    } catch (ProcessExitedException e) {
      // gone while we removed probes: nothing left to restore
    } finally {
      assembler.finish(new TraceReport(backend.name(), backend.stats(), System.nanoTime()));
      reportLosses();
    }
    return launched ? finishLaunched() : detach();
  }

  /** From any thread: ends {@link #run()} soon (probes removed, process let go). */
  public void stop() {
    stopRequested = true;
    backend.requestStop();
  }

  private int detach() {
    target.detach();
    return 0;
  }

  /** A launched program: its exit status, waiting for it to exit if it still runs. */
  private int finishLaunched() {
    if (!target.isAlive()) return target.waitExit();
    int pid = target.pid();
    target.detach();
    int[] status = new int[1];
    Libc.waitpid(pid, status, 0);
    int raw = status[0];
    return (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f);
  }

  private void abandon(RuntimeException cause) {
    try {
      if (target.isLaunched()) Libc.kill(target.pid(), io.qpatch.sys.Signals.SIGKILL);
      target.detach();
    } catch (RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  private static ProbePlan plan(int pid, Selection selection) {
    try (ProcessSymbols symbols = ProcessSymbols.of(pid)) {
      Module main = symbols.mainProgram()
          .orElseThrow(() -> new BadInputException("pid " + pid + " has no main program mapping"));
      ElfFile elf = main.elf();
      java.util.Optional<GoBinary> go = GoBinary.of(elf);
      if (go.isPresent()) return new GoPlanner(go.get(), main.loadBias()).plan(main.path(), selection);
      return new CPlanner(elf, main.loadBias(), Decoder.shared()).plan(main.path(), selection);
    }
  }

  private void report(Map<ProbeSite, String> refused) {
    int calls = (int) plan.sites().stream().filter(s -> s.kind() == ProbeSite.Kind.CALL).count();
    config.messages().println("gotrace: " + plan.description() + ", " + calls
        + " probed with " + backend.name() + (plan.skipped().isEmpty() && refused.isEmpty()
            ? "" : ", " + (plan.skipped().size() + refused.size()) + " could not be probed"));
  }

  private void reportLosses() {
    BackendStats stats = backend.stats();
    if (stats.lost() > 0) {
      config.messages().println("gotrace: " + stats.lost() + " events were lost (the "
          + backend.name() + " buffers overflowed); the trace above is incomplete");
    }
  }
}
