package io.qpatch;

import io.qpatch.fleet.Fleet;
import io.qpatch.fleet.FleetReport;
import io.qpatch.fleet.Outcome;
import io.qpatch.fleet.ProcessSelection;
import io.qpatch.patch.PatchOptions;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * A patch command on every process of a {@link ProcessSelection}, from {@link
 * Qpatch#processes}: each process all-or-nothing, several at once, idempotent (a process
 * already as wanted is left alone). Each method returns the {@link FleetReport}: one
 * {@link Outcome} per process.
 */
public final class Processes {
  private final ProcessSelection selection;
  private PatchOptions options = PatchOptions.DEFAULT;
  private int parallelism = Fleet.defaultParallelism();
  private boolean dryRun;
  private Consumer<Outcome> each = o -> { };

  Processes(ProcessSelection selection) {
    this.selection = selection;
  }

  /** Checks everything a real run would, changes nothing. */
  public Processes dryRun() {
    this.dryRun = true;
    return this;
  }

  /** At most {@code n} processes worked on at once. */
  public Processes parallel(int n) {
    this.parallelism = n;
    return this;
  }

  /** Sees each outcome as it comes. */
  public Processes onEach(Consumer<Outcome> each) {
    this.each = each;
    return this;
  }

  /** The options each process's patch command runs with (progress messages, waits). */
  public Processes options(PatchOptions options) {
    this.options = options;
    return this;
  }

  /** Loaded and active everywhere. */
  public FleetReport apply(String object) {
    return run(Fleet.Action.APPLY, object);
  }

  public FleetReport load(String object) {
    return run(Fleet.Action.LOAD, object);
  }

  public FleetReport activate(String object) {
    return run(Fleet.Action.ACTIVATE, object);
  }

  /** Absent everywhere. */
  public FleetReport rollback(String object) {
    return run(Fleet.Action.ROLLBACK, object);
  }

  /** Each process's state of the patch, nothing changed. */
  public FleetReport query(String object) {
    return run(Fleet.Action.QUERY, object);
  }

  /** {@code action} with {@code object}: what the CLI's fleet commands call. */
  public FleetReport run(Fleet.Action action, String object) {
    if (action != Fleet.Action.QUERY && !dryRun) io.qpatch.patch.Rehearsal.once(); // as the command lines do
    return new Fleet(options, parallelism, dryRun).run(selection, action, Path.of(object).toAbsolutePath(), each);
  }
}
