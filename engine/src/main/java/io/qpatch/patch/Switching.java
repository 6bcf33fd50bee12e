package io.qpatch.patch;

import io.qpatch.error.QpatchException;
import io.qpatch.error.RefusedException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;

/**
 * Activation and deactivation of a patch, on a stopped target. Each is a transaction of
 * single writes, each of which leaves the program valid (so a qpatch killed between any
 * two leaves the target fully old or fully new):
 *
 * <ol>
 *   <li>activation: for each function, the stub's previous slot, the record's note of what
 *       is overwritten, then the entry jump to the stub; the functions behave as before,
 *       because the stub goes on to the previous version while the state is not ACTIVE;
 *       then the state byte: every function switches at once;
 *   <li>deactivation: the state byte back (every function switches back at once), then each
 *       entry restored to the bytes it held before, then the state RETIRED.
 * </ol>
 *
 * Any failure during activation restores every byte already written.
 */
final class Switching {
  private final TargetMemory memory;
  private final RecordStore store;
  private final Consumer<String> progress;

  Switching(TargetMemory memory, RecordStore store, Consumer<String> progress) {
    this.memory = memory;
    this.store = store;
    this.progress = progress;
  }

  /**
   * What each entry holds now, in redirect order. An entry changed by something other than
   * qpatch is refused when this patch would write it: always for an activation, and for a
   * deactivation when this patch had installed it.
   */
  List<EntryState> entries(PatchRecord r, List<PatchRecord> all, boolean activating) {
    List<EntryState> out = new ArrayList<>();
    for (Redirect d : r.redirects()) {
      byte[] now = memory.target().read(d.address(), Redirect.ENTRY_JUMP_SIZE);
      EntryState st = EntryState.of(d, r, all, now);
      if (st.kind() == EntryState.Kind.FOREIGN && (activating || d.hasActivation())) {
        throw foreign(d, now);
      }
      out.add(st);
    }
    return out;
  }

  /** Bytes a thread must not be executing for the activation: what the entry jumps replace. */
  static List<Quiescence.Range> activationRanges(PatchRecord r, List<EntryState> states) {
    List<Quiescence.Range> out = new ArrayList<>();
    for (int i = 0; i < states.size(); i++) {
      Redirect d = r.redirects().get(i);
      if (states.get(i).kind() == EntryState.Kind.ORIGINAL) {
        out.add(new Quiescence.Range(d.address() + 1, d.address() + d.displaced(),
            "the first " + d.displaced() + " bytes of " + d.name()));
      }
    }
    return out;
  }

  /** Activates {@code r} (LOADED); the target is stopped and quiet. Returns the new record. */
  PatchRecord activate(PatchRecord r, List<EntryState> states) {
    callback(r.entryPoints().activeBefore(), EntryPoints.ACTIVE_BEFORE, r, true);
    List<Integer> written = new ArrayList<>();
    PatchRecord current = r;
    try {
      for (int i = 0; i < states.size(); i++) {
        EntryState st = states.get(i);
        if (st.kind() == EntryState.Kind.THIS_PATCH) continue; // an interrupted activation did it
        current = install(current, i, st);
        written.add(i);
      }
      current = store.writeState(current, PatchState.ACTIVE);
      callback(r.entryPoints().activeAfter(), EntryPoints.ACTIVE_AFTER, current, true);
      return current;
    } catch (RuntimeException e) {
      undo(current, written, e);
      throw e;
    }
  }

  private PatchRecord install(PatchRecord r, int index, EntryState st) {
    Redirect d = r.redirects().get(index);
    long previous = st.kind() == EntryState.Kind.ORIGINAL ? d.trampoline() : st.jumpTarget(d);
    Redirect activated = d.activated(st.bytes(), previous);
    memory.write(d.stub() + StubCode.PREVIOUS_SLOT, StubCode.previousSlot(previous),
        "previous slot of " + d.name());
    PatchRecord updated = store.writeActivation(r, index, activated);
    memory.write(d.address(), StubCode.entryJump(d.address(), d.stub()), "entry of " + d.name());
    return updated;
  }

  /** Puts back every entry written and the state, after a failed activation. */
  private void undo(PatchRecord r, List<Integer> written, RuntimeException cause) {
    try {
      if (r.state() == PatchState.ACTIVE) store.writeState(r, PatchState.LOADED);
      for (int i : written.reversed()) {
        Redirect d = r.redirects().get(i);
        memory.write(d.address(), d.entryBefore(), "entry of " + d.name() + " (undo)");
      }
    } catch (RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  /**
   * Checks, before the stop, that {@code r} can be deactivated: no other patch is stacked on
   * one of its functions, and no entry it installed was changed by something else. Entries
   * change only through qpatch, and this qpatch holds the target, so the answer stays true.
   */
  List<EntryState> prepareDeactivation(PatchRecord r, List<PatchRecord> all) {
    List<EntryState> states = entries(r, all, false);
    requireOnTop(r, all);
    return states;
  }

  /**
   * Deactivates {@code r} with the target stopped: the state byte first (every function back
   * at once), then each entry it installed restored. Returns the record, now RETIRED.
   */
  PatchRecord deactivate(PatchRecord r, List<EntryState> states) {
    boolean wasActive = r.state() == PatchState.ACTIVE;
    if (wasActive) callback(r.entryPoints().deactiveBefore(), EntryPoints.DEACTIVE_BEFORE, r, false);
    PatchRecord current = wasActive ? store.writeState(r, PatchState.LOADED) : r;
    for (int i = 0; i < states.size(); i++) {
      Redirect d = current.redirects().get(i);
      if (states.get(i).kind() == EntryState.Kind.THIS_PATCH) {
        memory.write(d.address(), d.entryBefore(), "entry of " + d.name() + " restored");
      }
    }
    if (wasActive) callback(r.entryPoints().deactiveAfter(), EntryPoints.DEACTIVE_AFTER, current, false);
    return store.writeState(current, PatchState.RETIRED);
  }

  private void requireOnTop(PatchRecord r, List<PatchRecord> all) {
    for (Redirect d : r.redirects()) {
      List<PatchRecord> above = Chain.above(Chain.at(memory.target(), d.address(), all), r);
      if (!above.isEmpty()) {
        PatchRecord top = above.getFirst();
        throw new RefusedException("cannot roll back " + r.label() + ": " + top.label()
            + " is on top of it on " + d.name() + "; roll back " + top.name() + " first"
            + " (patches on one function come off in reverse order)");
      }
    }
  }

  /**
   * Runs a callback. A failing activation callback aborts the activation; a failing
   * deactivation callback is reported and the rollback goes on (the user wants it gone).
   */
  private void callback(long address, String name, PatchRecord r, boolean fatal) {
    if (address == 0) return;
    try {
      memory.call(address, name + " of " + r.name());
    } catch (QpatchException e) {
      if (fatal) throw new RefusedException(name + " of " + r.label() + " failed: " + e.getMessage());
      progress.accept(name + " of " + r.name() + " failed (" + e.getMessage() + "); rolling back anyway");
    }
  }

  private RefusedException foreign(Redirect d, byte[] now) {
    return new RefusedException(String.format("the entry of %s (%s) at 0x%x was changed by something"
        + " other than qpatch (it holds %s); qpatch will not touch it", d.name(), d.module(),
        d.address(), HexFormat.ofDelimiter(" ").formatHex(now)));
  }
}
