package io.qpatch.patch;

import java.util.Optional;

/**
 * Where a patch is in its lifecycle, as recorded in the state byte of its record in the
 * target. That byte is also the switch every stub of the patch tests: only {@link
 * #ACTIVE} sends calls to the patch's code, any other value (a corrupt one included)
 * sends them on to the previous version of the function.
 */
public enum PatchState {
  /** The record is written but the constructors and the init function have not all run. */
  LOADING(1, "loading (interrupted)"),
  /** Laid out and initialised; no call reaches the patch's functions. */
  LOADED(2, "loaded"),
  /** Its functions have taken over. */
  ACTIVE(3, "active"),
  /** Rolled back; its memory stays mapped until no thread uses it any more. */
  RETIRED(4, "rolled back (memory still in use, freed later)"),
  /** Rolled back and its destructors have run; only the unmapping is left. */
  UNLOADING(5, "rolled back (being unmapped)");

  private final int code;
  private final String description;

  PatchState(int code, String description) {
    this.code = code;
    this.description = description;
  }

  /** The byte stored in the record. */
  public int code() {
    return code;
  }

  /** How {@code qpatch -q} shows the state. */
  public String description() {
    return description;
  }

  static Optional<PatchState> of(int code) {
    for (PatchState s : values()) {
      if (s.code == code) return Optional.of(s);
    }
    return Optional.empty();
  }
}
