package io.qpatch.patch;

import io.qpatch.proc.Mapping;
import io.qpatch.proc.Target;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Builds what {@code qpatch -q} shows from the records and the entries as they are now. */
final class Status {
  private Status() {}

  static Patcher.Query query(Target target, RecordStore store) {
    List<Mapping> maps = target.maps();
    List<RecordStore.Found> found = store.scan(maps);
    List<PatchRecord> valid = RecordStore.valid(found);
    List<PatchStatus> patches = valid.stream().map(r -> of(target, r, valid)).toList();
    List<String> problems = new ArrayList<>();
    for (RecordStore.Found f : found) {
      if (f.isCorrupt()) problems.add(store.corrupt(f).getMessage());
    }
    if (problems.isEmpty()) {
      for (Region g : Housekeeping.debris(maps, valid)) {
        problems.add(String.format("mapping 0x%x-0x%x was left by an interrupted load; the next"
            + " qpatch command that changes pid %d removes it", g.start(), g.end(), target.pid()));
      }
    }
    return new Patcher.Query(patches, problems);
  }

  static PatchStatus of(Target target, PatchRecord r, List<PatchRecord> all) {
    List<PatchStatus.FunctionStatus> functions = new ArrayList<>();
    int installed = 0;
    for (Redirect d : r.redirects()) {
      List<PatchRecord> chain = Chain.at(target, d.address(), all);
      String entry = entry(r, d, chain, target);
      if (!chain.isEmpty() && chain.stream().anyMatch(x -> x.address() == r.address())) installed++;
      functions.add(new PatchStatus.FunctionStatus(d.name(), d.module(), d.kind(), d.address(),
          d.replacement(), d.stub(), d.trampoline(), entry));
    }
    return new PatchStatus(r.name(), r.path(), r.hash(), r.state(),
        Instant.ofEpochMilli(r.loadedAtMillis()), r.address(), functions, note(r, installed));
  }

  private static String entry(PatchRecord r, Redirect d, List<PatchRecord> chain, Target target) {
    if (chain.isEmpty()) {
      byte[] now = target.read(d.address(), Redirect.ENTRY_JUMP_SIZE);
      return java.util.Arrays.equals(now, d.originalEntry()) ? "not redirected" : "changed by something else";
    }
    if (chain.getFirst().address() == r.address()) {
      return r.state() == PatchState.ACTIVE ? "redirected" : "entry jump installed, switch off";
    }
    List<PatchRecord> above = Chain.above(chain, r);
    if (above.isEmpty()) return "not redirected (" + chain.getFirst().name() + " redirects it)";
    return "under " + above.getFirst().name();
  }

  private static String note(PatchRecord r, int installed) {
    int n = r.redirects().size();
    if (r.state() == PatchState.LOADED && installed > 0) {
      return "activation was interrupted: " + installed + " of " + n + " entry jumps installed,"
          + " the functions still run their old code; activating it completes it, rolling it back undoes it";
    }
    if (r.state() == PatchState.LOADING) return "its load was interrupted; the next qpatch command removes it";
    return "";
  }
}
