package io.qpatch.patch;

import java.util.Arrays;
import java.util.List;

/**
 * What a redirected function's entry holds now, seen from one patch: its original bytes,
 * a jump to this patch's stub, a jump to another patch's stub (that patch is on top of
 * this one, or below it before this one's activation), or anything else (a change
 * qpatch did not make: a debugger's breakpoint, another tool).
 *
 * @param kind which of those
 * @param bytes the 5 entry bytes now
 * @param owner the patch whose stub the entry jumps to, for {@link Kind#OTHER_PATCH}
 */
record EntryState(Kind kind, byte[] bytes, PatchRecord owner) {

  enum Kind {
    ORIGINAL,
    THIS_PATCH,
    OTHER_PATCH,
    FOREIGN
  }

  static EntryState of(Redirect d, PatchRecord self, List<PatchRecord> all, byte[] now) {
    if (Arrays.equals(now, d.originalEntry())) return new EntryState(Kind.ORIGINAL, now, null);
    long target = StubCode.entryJumpTarget(d.address(), now);
    if (target == d.stub()) return new EntryState(Kind.THIS_PATCH, now, self);
    for (PatchRecord r : all) {
      if (r.address() == self.address()) continue;
      for (Redirect o : r.redirects()) {
        if (o.address() == d.address() && o.stub() == target) {
          return new EntryState(Kind.OTHER_PATCH, now, r);
        }
      }
    }
    return new EntryState(Kind.FOREIGN, now, null);
  }

  /** The stub the entry jumps to (for {@link Kind#OTHER_PATCH}). */
  long jumpTarget(Redirect d) {
    return StubCode.entryJumpTarget(d.address(), bytes);
  }
}
