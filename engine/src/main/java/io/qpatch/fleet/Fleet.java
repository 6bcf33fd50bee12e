package io.qpatch.fleet;

import io.qpatch.error.BadInputException;
import io.qpatch.error.ProcessExitedException;
import io.qpatch.error.QpatchException;
import io.qpatch.patch.PatchOptions;
import io.qpatch.patch.PatchState;
import io.qpatch.patch.PatchStatus;
import io.qpatch.patch.Patcher;
import io.qpatch.proc.Target;
import io.qpatch.proc.Tracer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * One patch command on many processes: each process all-or-nothing as the single-process
 * commands are, several at once (at most {@link #parallelism} attached at a time, so a
 * host is not flooded), and idempotent: a process already in the wanted state is left as
 * it is and counted unchanged. A process that exits meanwhile is reported as such, not as
 * a failure of the others.
 */
public final class Fleet {
  /** What to make of the patch in each process. */
  public enum Action {
    /** Loaded (-l): loaded or active already is as wanted. */
    LOAD,
    /** Active, from loaded (-a): a process without the patch loaded fails. */
    ACTIVATE,
    /** Active, loading it first when absent (apply). */
    APPLY,
    /** Absent (-r). */
    ROLLBACK,
    /** Nothing changed: each process's state (-q). */
    QUERY
  }

  private final PatchOptions options;
  private final int parallelism;
  private final boolean dryRun;

  /**
   * @param parallelism processes worked on at once (at least 1)
   * @param dryRun check everything, change nothing
   */
  public Fleet(PatchOptions options, int parallelism, boolean dryRun) {
    this.options = options;
    this.parallelism = Math.max(1, parallelism);
    this.dryRun = dryRun;
  }

  /** Processes at once by default: enough to overlap one process's stops with another's reading. */
  public static int defaultParallelism() {
    return Math.min(8, 2 * Runtime.getRuntime().availableProcessors());
  }

  /**
   * Runs {@code action} with {@code object} on every process {@code selection} names now;
   * {@code each} sees every outcome as it comes (from several threads, one at a time).
   */
  public FleetReport run(ProcessSelection selection, Action action, Path object, Consumer<Outcome> each) {
    if (action != Action.QUERY && action != Action.ROLLBACK && !Files.isRegularFile(object)) {
      throw new BadInputException("no such patch object: " + object + " (build it with gcc -c)");
    }
    List<Integer> pids = selection.resolve();
    List<Outcome> out = new ArrayList<>();
    int workers = Math.min(parallelism, Math.max(1, pids.size()));
    java.util.concurrent.BlockingQueue<Tracer> tracers = new java.util.concurrent.LinkedBlockingQueue<>(Tracer.pool(workers));
    try (ExecutorService pool = Executors.newFixedThreadPool(workers,
        r -> Thread.ofPlatform().daemon().name("qpatch-fleet").unstarted(r))) {
      List<Future<Outcome>> futures = new ArrayList<>();
      for (int pid : pids) {
        futures.add(pool.submit(() -> {
          Tracer tracer = tracers.take(); // a tracer thread of its own while it works on this process
          Outcome o;
          try {
            o = Tracer.with(tracer, () -> one(pid, action, object));
          } finally {
            tracers.add(tracer);
          }
          synchronized (each) {
            each.accept(o);
          }
          return o;
        }));
      }
      for (Future<Outcome> f : futures) out.add(f.get());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while patching", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
    }
    return new FleetReport(action, object.getFileName().toString(), dryRun, out);
  }

  private Outcome one(int pid, Action action, Path object) {
    String command = Target.command(pid);
    String before = "?";
    try (Target target = Target.attach(pid)) {
      Patcher patcher = new Patcher(target, options);
      before = stateOf(patcher, object);
      return act(new Step(pid, command, before, patcher, object), action);
    } catch (ProcessExitedException e) {
      return new Outcome(pid, command, before, before, false, Outcome.Result.EXITED, e.getMessage(), List.of());
    } catch (QpatchException e) {
      if (Target.hasExited(pid)) return new Outcome(pid, command, before, before, false, Outcome.Result.EXITED, e.getMessage(), List.of());
      return new Outcome(pid, command, before, before, false, Outcome.Result.FAILED, e.getMessage(), List.of());
    }
  }

  private record Step(int pid, String command, String before, Patcher patcher, Path object) {
    Outcome unchanged(String message) {
      return new Outcome(pid, command, before, before, false, Outcome.Result.OK, message, List.of());
    }

    Outcome changed(String after, List<String> functions, String message) {
      return new Outcome(pid, command, before, after, true, Outcome.Result.OK, message, functions);
    }
  }

  private Outcome act(Step s, Action action) {
    return switch (action) {
      case QUERY -> s.unchanged(s.before());
      case LOAD -> s.before().equals(ABSENT) ? load(s, false) : s.unchanged("already " + s.before());
      case APPLY -> s.before().equals(ACTIVE) ? s.unchanged("already active")
          : s.before().equals(LOADED) ? activate(s) : load(s, true);
      case ACTIVATE -> s.before().equals(ACTIVE) ? s.unchanged("already active") : activate(s);
      case ROLLBACK -> s.before().equals(ABSENT) ? s.unchanged("not loaded") : rollback(s);
    };
  }

  private Outcome load(Step s, boolean activate) {
    String after = activate ? ACTIVE : LOADED;
    if (dryRun) return s.changed(after, s.patcher().check(s.object()), "checked: nothing written");
    PatchStatus st = activate ? s.patcher().apply(s.object()) : s.patcher().load(s.object());
    return s.changed(after, functions(st), "");
  }

  private Outcome activate(Step s) {
    if (s.before().equals(ABSENT)) {
      throw new BadInputException(s.object().getFileName() + " is not loaded in pid " + s.pid() + "; load it first");
    }
    if (dryRun) return s.changed(ACTIVE, functions(s.patcher().query(s.object())), "checked: nothing written");
    return s.changed(ACTIVE, functions(s.patcher().activate(s.object())), "");
  }

  private Outcome rollback(Step s) {
    if (dryRun) return s.changed(ABSENT, functions(s.patcher().query(s.object())), "checked: nothing written");
    Patcher.RollbackResult r = s.patcher().rollback(s.object());
    return s.changed(ABSENT, List.of(), r.stillInUse().map(b -> "its memory stays mapped while " + b).orElse(""));
  }

  /**
   * A process of this host that carries qpatch patches, and their states; {@code problem}
   * when they could not be read (then {@code patches} is empty).
   */
  public record Carrier(int pid, String command, List<PatchStatus> patches, String problem) {}

  /**
   * Every process of this host that carries a patch ({@code qpatch status}): found from
   * their memory maps without touching the others, then each one's records read.
   */
  public static List<Carrier> carriers() {
    List<Carrier> out = new ArrayList<>();
    for (int pid : ProcessSelection.allPids()) {
      if (!Patcher.carriesPatch(pid)) continue;
      try (Target t = Target.attach(pid)) {
        out.add(new Carrier(pid, Target.command(pid), new Patcher(t).query().patches(), null));
      } catch (QpatchException e) {
        out.add(new Carrier(pid, Target.command(pid), List.of(), e.getMessage()));
      }
    }
    return out;
  }

  static final String ABSENT = "absent";
  static final String LOADED = "loaded";
  static final String ACTIVE = "active";

  /** The patch's state in the process: absent, or its record's state in a word. */
  static String stateOf(Patcher patcher, Path object) {
    PatchStatus s;
    try {
      s = patcher.query(object);
    } catch (BadInputException e) {
      return ABSENT; // not loaded there
    }
    return word(s.state());
  }

  static String word(PatchState state) {
    return switch (state) {
      case LOADING -> "loading";
      case LOADED -> LOADED;
      case ACTIVE -> ACTIVE;
      case RETIRED, UNLOADING -> "rolled back";
    };
  }

  private static List<String> functions(PatchStatus s) {
    return s.functions().stream().map(PatchStatus.FunctionStatus::describe).toList();
  }
}
