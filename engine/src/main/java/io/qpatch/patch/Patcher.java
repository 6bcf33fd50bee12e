package io.qpatch.patch;

import io.qpatch.error.BadInputException;
import io.qpatch.error.RefusedException;
import io.qpatch.proc.Target;
import io.qpatch.symbols.ProcessSymbols;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The patch lifecycle on one attached target: {@link #load} (-l), {@link #activate} (-a),
 * {@link #apply} (both), {@link #rollback} (-r), {@link #query} (-q). Every call stands on
 * its own: what earlier calls (in this JVM or another) did is read back from the target.
 *
 * <p>A patch is identified by its object file: the SHA-256 of its content, and its
 * absolute path (for a rollback or query after the file was rebuilt or removed).
 */
public final class Patcher {
  private final Target target;
  private final PatchOptions options;
  private final TargetMemory memory;
  private final RecordStore store;
  private final Unloading unloading;
  private final Switching switching;
  private final Loading loading;

  public Patcher(Target target, PatchOptions options) {
    this.target = target;
    this.options = options;
    this.memory = new TargetMemory(target);
    this.store = new RecordStore(memory);
    this.unloading = new Unloading(memory, store, options.progress());
    this.switching = new Switching(memory, options.progress());
    this.loading = new Loading(memory, store, unloading);
  }

  public Patcher(Target target) {
    this(target, PatchOptions.DEFAULT);
  }

  /** {@code -l}: lays the patch into the target and initialises it; nothing is redirected. */
  public PatchStatus load(Path file) {
    return loadThen(file, false);
  }

  /** {@code apply}: load, then initialise and activate in one stop of the target. */
  public PatchStatus apply(Path file) {
    return loadThen(file, true);
  }

  private PatchStatus loadThen(Path file, boolean activate) {
    tidy();
    return beforeLoading(file, (object, symbols, records) -> {
      Loading.Laid laid = loading.lay(object, symbols, records);
      PatchRecord r = activate ? activateQuietly(laid.record(), x -> loading.initialise(laid), true)
          : initialiseHeld(laid);
      keepControlMappingWhileLoaded();
      ChangeLog.changed(target.pid(), r, "absent", activate ? "active" : "loaded");
      return status(r);
    });
  }

  /** What a load does once its checks have passed: with the object, the process's symbols and the patches in it. */
  @FunctionalInterface
  private interface Checked<T> {
    T then(PatchObject object, ProcessSymbols symbols, List<PatchRecord> records);
  }

  /**
   * The checks every load makes before it writes (the machine, the object, the patch not
   * already there, the build-id), then {@code then}.
   */
  private <T> T beforeLoading(Path file, Checked<T> then) {
    TargetChecks.requireX86_64(target.pid());
    try (PatchObject object = PatchObject.open(file)) {
      List<RecordStore.Found> found = store.scan();
      requireNotLoaded(object, found);
      try (ProcessSymbols symbols = ProcessSymbols.of(target.pid())) {
        TargetChecks.requireBuild(object, symbols);
        return then.then(object, symbols, RecordStore.valid(found));
      }
    }
  }

  /**
   * {@code -l}: the constructors and {@code _qpatch_init} run in one held thread while the
   * others run on (nothing calls the patch yet, and a call into the program cannot wait for
   * a lock a stopped thread holds).
   */
  private PatchRecord initialiseHeld(Loading.Laid laid) {
    if (!Loading.runsCode(laid)) return loading.initialise(laid);
    return Stops.held(target, "initialise " + laid.record().name(), () -> loading.initialise(laid));
  }

  /** {@code -a}: switches the loaded patch's functions over, all at once. */
  public PatchStatus activate(Path file) {
    tidy();
    PatchRecord r = locate(PatchIdentity.of(file), true);
    switch (r.state()) {
      case ACTIVE -> throw new BadInputException(r.label() + " is already active in pid " + target.pid());
      case LOADING -> throw new RefusedException(r.label() + " did not finish loading (its "
          + "initialisation was interrupted); roll it back and load it again");
      case LOADED -> { }
      default -> throw new BadInputException(r.label() + " has been rolled back in pid " + target.pid());
    }
    PatchRecord activated = activateQuietly(r, UnaryOperator.identity(), false);
    keepControlMappingWhileLoaded();
    ChangeLog.changed(target.pid(), activated, "loaded", "active");
    return status(activated);
  }

  /**
   * Activates once no thread executes the bytes the entry jumps replace, retrying briefly
   * (resume, wait, stop again). {@code first} runs in the same stop, just before (the
   * initialisation, for apply: constructors and init, when the patch has them, make that
   * stop longer). On failure in apply, the patch is unloaded again.
   */
  private PatchRecord activateQuietly(PatchRecord r, UnaryOperator<PatchRecord> first, boolean applying) {
    List<PatchRecord> all = RecordStore.valid(store.scan());
    long deadline = System.nanoTime() + options.quietTimeout().toNanos();
    try {
      List<EntryState> states = switching.entries(r, all, true);
      List<Quiescence.Range> ranges = Switching.activationRanges(r, states);
      Switching.Prepared activation = Switching.prepareActivation(r, states);
      warmUp(r);
      while (true) {
        PatchRecord[] activated = new PatchRecord[1];
        Optional<Quiescence.Busy> busy = Stops.stopped(target, "activate " + r.name(), () -> {
          Optional<Quiescence.Busy> inside = new Quiescence(target).pcIn(ranges);
          if (inside.isEmpty()) {
            first.apply(r);
            activated[0] = switching.activate(activation);
          }
          return inside;
        });
        if (busy.isEmpty()) return activated[0];
        if (System.nanoTime() > deadline) {
          throw new RefusedException("cannot activate " + r.label() + " now: " + busy.get().describe()
              + " (tried for " + options.quietTimeout().toMillis() + " ms); try again");
        }
        sleep(2);
      }
    } catch (RuntimeException e) {
      if (applying) throw unloadAfterFailedApply(r, e);
      throw e;
    }
  }

  private RuntimeException unloadAfterFailedApply(PatchRecord r, RuntimeException e) {
    try {
      if (unloading.unloadWhenUnused(r, options.unloadWait()).isEmpty()) {
        return e instanceof RefusedException ? new RefusedException(e.getMessage()
            + " (the patch was unloaded again)") : e;
      }
    } catch (RuntimeException again) {
      e.addSuppressed(again);
    }
    return e;
  }

  /**
   * {@code -r}: switches the functions back, at once, then frees the patch's memory once no
   * thread uses it, waiting up to {@link PatchOptions#unloadWait()}.
   */
  public RollbackResult rollback(Path file) {
    tidy();
    PatchRecord r = locate(PatchIdentity.of(file), false);
    String before = r.state().name().toLowerCase(java.util.Locale.ROOT);
    if (r.state() == PatchState.ACTIVE || r.state() == PatchState.LOADED) {
      List<PatchRecord> all = RecordStore.valid(store.scan());
      Switching.Prepared deactivation = switching.prepareDeactivation(store.reread(r), all);
      warmUp(r);
      r = Stops.stopped(target, "deactivate " + r.name(), () -> switching.deactivate(deactivation));
    }
    Optional<Quiescence.Busy> busy = unloading.unloadWhenUnused(r, options.unloadWait());
    keepControlMappingWhileLoaded();
    ChangeLog.changed(target.pid(), r, before, "absent");
    return new RollbackResult(r.label(), busy.map(Quiescence.Busy::describe));
  }

  /**
   * {@code --dry-run} of a load or apply: every check {@link #load} makes before it writes
   * (the machine, the object, the patch not already there, the build-id, every function it
   * takes over found, long enough and relocatable, its undefined symbols resolved), and
   * nothing written. Returns the functions it would take over, as "replace NAME (MODULE)".
   */
  public List<String> check(Path file) {
    return beforeLoading(file, loading::check);
  }

  /**
   * qpatch's control mapping stays in the target while any patch is in it (loaded, active,
   * or rolled back with its memory still in use), and goes with the last: see {@link
   * Target#keepControlMapping}.
   */
  private void keepControlMappingWhileLoaded() {
    target.keepControlMapping(!RecordStore.valid(store.scan()).isEmpty());
  }

  /**
   * What {@link #rollback} did.
   *
   * @param patch the patch's label
   * @param stillInUse when its memory could not be freed yet: which thread still uses it
   */
  public record RollbackResult(String patch, Optional<String> stillInUse) {}

  /** {@code -q}: every patch loaded, and anything odd found (a corrupt record, leftovers). */
  public Query query() {
    return Status.query(target, store);
  }

  /** {@code -q -o PATCH.o}: that patch. */
  public PatchStatus query(Path file) {
    return status(locate(PatchIdentity.of(file), false));
  }

  /**
   * Whether process {@code pid} carries a qpatch patch record (in any state), read from
   * its memory map alone: nothing attached. False when it is gone or not ours to read.
   */
  public static boolean carriesPatch(int pid) {
    try {
      return io.qpatch.proc.ProcMaps.read(pid).stream().anyMatch(PatchNames::isRecordMapping);
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** A listing of patches and of problems, one line each. */
  public record Query(List<PatchStatus> patches, List<String> problems) {}

  /**
   * Runs, with the target running, the code a switch runs with it stopped: reading every
   * thread, writing a byte (the state byte, with the value it has). A command runs in a new
   * JVM, where the first run of any code is slow (class loading, linking): this keeps that
   * out of the stop, which then takes well under a millisecond instead of several.
   */
  private void warmUp(PatchRecord r) {
    Checkpoints.load();
    target.threadIds();
    target.write(r.stateAddress(), new byte[] {(byte) r.state().code()});
  }

  /** What tidying found to do before this command; see {@link Housekeeping}. */
  private void tidy() {
    new Housekeeping(memory, store, unloading).run().forEach(options.progress());
  }

  private PatchStatus status(PatchRecord r) {
    return Status.of(target, store.reread(r), RecordStore.valid(store.scan()));
  }

  private void requireNotLoaded(PatchObject object, List<RecordStore.Found> found) {
    String hash = java.util.HexFormat.of().formatHex(object.sha256());
    for (PatchRecord r : RecordStore.valid(found)) {
      if (r.hash().equals(hash)) {
        throw new BadInputException(r.label() + " is already loaded in pid " + target.pid() + " ("
            + r.state().description() + (r.path().equals(object.path().toString()) ? "" : ", from " + r.path())
            + "); a patch loads once");
      }
      if (r.path().equals(object.path().toString())) {
        throw new BadInputException("another build of " + object.path() + " is loaded in pid "
            + target.pid() + " (" + r.label() + ", " + r.state().description() + "); roll it back first");
      }
    }
  }

  /** The record of the patch {@code id} names; for activation the content must match too. */
  private PatchRecord locate(PatchIdentity id, boolean exactContent) {
    List<RecordStore.Found> found = store.scan();
    List<PatchRecord> valid = RecordStore.valid(found);
    if (id.hash().isPresent()) {
      Optional<PatchRecord> same = RecordStore.byHash(found, id.hash().get());
      if (same.isPresent()) return same.get();
    }
    Optional<PatchRecord> samePath = valid.stream().filter(r -> r.path().equals(id.path().toString())).findFirst();
    if (samePath.isPresent() && (!exactContent || id.hash().isEmpty())) return samePath.get();
    if (samePath.isPresent()) {
      throw new BadInputException(id.path() + " has changed since it was loaded into pid " + target.pid()
          + " (loaded: " + samePath.get().label() + "); roll it back and load it again");
    }
    throw notLoaded(id, valid, found);
  }

  private BadInputException notLoaded(PatchIdentity id, List<PatchRecord> valid, List<RecordStore.Found> found) {
    String loaded = valid.isEmpty() ? "no patch is loaded there"
        : "loaded: " + String.join(", ", valid.stream().map(PatchRecord::label).toList());
    long bad = found.stream().filter(RecordStore.Found::isCorrupt).count();
    String corrupt = bad > 0 ? "; " + bad + " corrupt record(s), see qpatch -q" : "";
    return new BadInputException(id.describe() + " is not loaded in pid " + target.pid() + " ("
        + loaded + corrupt + ")");
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
