package io.qpatch.patch;

import io.qpatch.error.QpatchException;
import io.qpatch.error.RefusedException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;

/**
 * Activation and deactivation of a patch. Each is a list of single writes computed before
 * the target is stopped (so the stop holds the target only for the writes), every one of
 * which leaves the program valid, so a qpatch killed between any two leaves the target
 * fully old or fully new:
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
  /** One write of a transaction. */
  record Write(long address, byte[] bytes, String what) {}

  /**
   * A transaction ready to run in a stop.
   *
   * @param before the record as it is
   * @param after the record once the writes are done
   * @param writes in order; the state byte's write switches the functions
   * @param undo for each write, the write that puts its bytes back (null: nothing to undo)
   */
  record Prepared(PatchRecord before, PatchRecord after, List<Write> writes, List<Write> undo) {}

  private final TargetMemory memory;
  private final Consumer<String> progress;

  Switching(TargetMemory memory, Consumer<String> progress) {
    this.memory = memory;
    this.progress = progress;
  }

  /**
   * What each entry holds now, in redirect order. An entry changed by something other than
   * qpatch is refused when this patch would write it: always for an activation, and for a
   * deactivation when this patch had installed it. Entries change only through qpatch, and
   * this qpatch holds the target, so what is read here stays true until the stop.
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

  /** The writes that activate {@code r} (LOADED), given its entries now. */
  static Prepared prepareActivation(PatchRecord r, List<EntryState> states) {
    List<Write> writes = new ArrayList<>();
    List<Write> undo = new ArrayList<>();
    PatchRecord current = r;
    for (int i = 0; i < states.size(); i++) {
      EntryState st = states.get(i);
      if (st.kind() == EntryState.Kind.THIS_PATCH) continue; // an interrupted activation did it
      Redirect d = current.redirects().get(i);
      long previous = st.kind() == EntryState.Kind.ORIGINAL ? d.trampoline() : st.jumpTarget(d);
      Redirect activated = d.activated(st.bytes(), previous);
      add(writes, undo, new Write(d.stub() + StubCode.PREVIOUS_SLOT, StubCode.previousSlot(previous),
          "previous slot of " + d.name()), null);
      add(writes, undo, new Write(current.address() + RecordCodec.activationOffset(current, i),
          RecordCodec.activation(activated), "activation of " + d.name()), null);
      add(writes, undo, new Write(d.address(), StubCode.entryJump(d.address(), d.stub()), "entry of " + d.name()),
          new Write(d.address(), st.bytes(), "entry of " + d.name() + " (undo)"));
      current = current.withRedirect(i, activated);
    }
    add(writes, undo, stateWrite(current, PatchState.ACTIVE), stateWrite(current, PatchState.LOADED));
    return new Prepared(r, current.withState(PatchState.ACTIVE), writes, undo);
  }

  /**
   * Runs a prepared activation, the target stopped and quiet. {@code _pat_callback_active_before}
   * runs first, {@code _pat_callback_active_after} last; a failure anywhere puts back every
   * byte written.
   */
  PatchRecord activate(Prepared p) {
    callback(p.before().entryPoints().activeBefore(), EntryPoints.ACTIVE_BEFORE, p.before(), true);
    int done = 0;
    try {
      for (Write w : p.writes()) {
        memory.write(w.address(), w.bytes(), w.what());
        done++;
      }
      callback(p.after().entryPoints().activeAfter(), EntryPoints.ACTIVE_AFTER, p.after(), true);
      return p.after();
    } catch (RuntimeException e) {
      undo(p, done, e);
      throw e;
    }
  }

  private void undo(Prepared p, int done, RuntimeException cause) {
    try {
      for (int i = done - 1; i >= 0; i--) {
        Write back = p.undo().get(i);
        if (back != null) memory.write(back.address(), back.bytes(), back.what());
      }
    } catch (RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  /**
   * The writes that deactivate {@code r}, checked before the stop: no other patch may be
   * stacked on one of its functions. The state byte goes first (every function back at
   * once), then each entry it installed, then the state RETIRED.
   */
  Prepared prepareDeactivation(PatchRecord r, List<PatchRecord> all) {
    List<EntryState> states = entries(r, all, false);
    requireOnTop(r, all);
    List<Write> writes = new ArrayList<>();
    if (r.state() == PatchState.ACTIVE) writes.add(stateWrite(r, PatchState.LOADED));
    for (int i = 0; i < states.size(); i++) {
      Redirect d = r.redirects().get(i);
      if (states.get(i).kind() == EntryState.Kind.THIS_PATCH) {
        writes.add(new Write(d.address(), d.entryBefore(), "entry of " + d.name() + " restored"));
      }
    }
    writes.add(stateWrite(r, PatchState.RETIRED));
    return new Prepared(r, r.withState(PatchState.RETIRED), writes, List.of());
  }

  /**
   * Runs a prepared deactivation, the target stopped; the deactivation callbacks run
   * around the switch when the patch was active.
   */
  PatchRecord deactivate(Prepared p) {
    boolean wasActive = p.before().state() == PatchState.ACTIVE;
    if (wasActive) callback(p.before().entryPoints().deactiveBefore(), EntryPoints.DEACTIVE_BEFORE, p.before(), false);
    List<Write> writes = p.writes();
    for (int i = 0; i < writes.size(); i++) {
      Write w = writes.get(i);
      memory.write(w.address(), w.bytes(), w.what());
      if (wasActive && i == writes.size() - 2) {
        callback(p.before().entryPoints().deactiveAfter(), EntryPoints.DEACTIVE_AFTER, p.before(), false);
      }
    }
    return p.after();
  }

  private static void add(List<Write> writes, List<Write> undo, Write w, Write back) {
    writes.add(w);
    undo.add(back);
  }

  private static Write stateWrite(PatchRecord r, PatchState state) {
    return new Write(r.stateAddress(), new byte[] {(byte) state.code()}, "state of " + r.name() + " = " + state);
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

  private static RefusedException foreign(Redirect d, byte[] now) {
    return new RefusedException(String.format("the entry of %s (%s) at 0x%x was changed by something"
        + " other than qpatch (it holds %s); qpatch will not touch it", d.name(), d.module(),
        d.address(), HexFormat.ofDelimiter(" ").formatHex(now)));
  }
}
