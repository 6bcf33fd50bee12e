package io.qpatch.patch;

import io.qpatch.proc.Target;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The patches stacked on one function: the entry jumps to the top patch's stub, whose
 * {@code previous} leads to the stub of the patch below, and so on down to a trampoline.
 * Walked from the entry, so it shows the order the target really runs.
 */
final class Chain {
  private Chain() {}

  /** The patches redirecting the function at {@code address}, top first. */
  static List<PatchRecord> at(Target target, long address, List<PatchRecord> all) {
    List<PatchRecord> out = new ArrayList<>();
    long stub = StubCode.entryJumpTarget(address, target.read(address, Redirect.ENTRY_JUMP_SIZE));
    while (stub != 0 && out.size() <= all.size()) {
      Optional<Owner> owner = ownerOf(address, stub, all);
      if (owner.isEmpty()) break;
      out.add(owner.get().record());
      Redirect d = owner.get().redirect();
      stub = d.hasActivation() && d.previous() != d.trampoline() ? d.previous() : 0;
    }
    return out;
  }

  /** The patches above {@code self} on {@code address}, top first; empty when it is on top or not in the chain. */
  static List<PatchRecord> above(List<PatchRecord> chain, PatchRecord self) {
    List<PatchRecord> out = new ArrayList<>();
    for (PatchRecord r : chain) {
      if (r.address() == self.address()) return out;
      out.add(r);
    }
    return List.of();
  }

  private record Owner(PatchRecord record, Redirect redirect) {}

  private static Optional<Owner> ownerOf(long address, long stub, List<PatchRecord> all) {
    for (PatchRecord r : all) {
      for (Redirect d : r.redirects()) {
        if (d.address() == address && d.stub() == stub) return Optional.of(new Owner(r, d));
      }
    }
    return Optional.empty();
  }
}
