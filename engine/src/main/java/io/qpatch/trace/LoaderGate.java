package io.qpatch.trace;

import io.qpatch.arch.x86_64.Decoder;
import io.qpatch.error.QpatchException;
import io.qpatch.proc.Target;
import io.qpatch.symbols.Module;
import io.qpatch.symbols.ProcessSymbols;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Stops a thread of the traced process at the dynamic loader's rendezvous until the trace
 * has looked at what it mapped: glibc's and musl's {@code dlopen} call {@code
 * _dl_debug_state} (the {@code r_brk} of {@code struct r_debug}, {@code <link.h>}, where
 * debuggers put their breakpoint) after mapping a library and before running its
 * constructors or returning. An in-process probe there whose call waits until we have
 * read its record ({@link InProcBackend#waitingForReader}) runs {@code onLoad} while the
 * loading thread waits: the new library's functions are probed before any of them can
 * run, whatever the backend of the trace.
 *
 * <p>The wait is bounded: {@link #WAIT_NANOS} after our last look at its ring, the
 * thread goes on (if we died, or a library took that long to plan), so the program is
 * never held by a tracer that is gone.
 */
final class LoaderGate implements AutoCloseable {
  /** glibc's and musl's name for the rendezvous function (glibc elf/dl-debug.c). */
  static final String RENDEZVOUS = "_dl_debug_state";
  /** Longer than planning a large library takes here (libc: ~0.2 s cold). */
  static final long WAIT_NANOS = 2_000_000_000L;
  private final InProcBackend probe;
  private final Thread reader;

  private LoaderGate(InProcBackend probe) {
    this.probe = probe;
    this.reader = Thread.ofPlatform().daemon().name("gotrace-loader-gate").start(probe::run);
  }

  /**
   * A gate in {@code target} (attached and held by the caller) that runs {@code onLoad}
   * at each rendezvous, or why there can be none: the probe was refused, or (whyNot
   * null) there is no dynamic loader, as in a static program, which loads nothing later.
   */
  static Result open(Target target, Runnable onLoad) {
    ProbePlan plan;
    try (ProcessSymbols symbols = ProcessSymbols.of(target.pid())) {
      Optional<Module> loader = symbols.modules().stream().filter(LoaderGate::isLoader).findFirst();
      if (loader.isEmpty()) return new Result(null, null);
      Module m = loader.get();
      Selection exact = new Selection(Optional.of(Pattern.compile("^" + RENDEZVOUS + "$")), Optional.empty(), false, false);
      plan = new CPlanner(m.elf(), m.loadBias(), Decoder.shared(), m.name(), 0).plan(m.path(), exact);
      if (plan.sites().isEmpty()) return new Result(null, m.path() + " has no " + RENDEZVOUS + " function");
    } catch (QpatchException e) {
      return new Result(null, "cannot read the dynamic loader of pid " + target.pid() + ": " + e.getMessage());
    }
    // from /proc, never waitpid: the trace's other threads may be the launched program's
    // parent, collecting its exit, or its ptrace tracer
    InProcBackend probe = InProcBackend.waitingForReader(target, () -> !Target.hasExited(target.pid()), WAIT_NANOS);
    Map<ProbeSite, String> refused = probe.install(plan, (site, tid, time, regs) -> onLoad.run());
    if (!refused.isEmpty()) {
      probe.remove();
      return new Result(null, RENDEZVOUS + " cannot be probed: " + refused.values().iterator().next());
    }
    return new Result(new LoaderGate(probe), null);
  }

  /** A gate, or why there is none (null: nothing to gate). */
  record Result(LoaderGate gate, String whyNot) {}

  /** The dynamic loader: ld-linux-x86-64.so.2 (glibc), ld-musl-x86_64.so.1 (musl). */
  private static boolean isLoader(Module m) {
    return !m.isMainProgram() && !m.isVdso() && m.name().startsWith("ld-");
  }

  /** Takes the probe out; a thread waiting at the gate goes on. The target must be attached by the caller or by nobody. */
  @Override
  public void close() {
    probe.requestStop();
    try {
      reader.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    probe.remove();
  }
}
