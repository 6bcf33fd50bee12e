package io.qpatch.elf;

/** {@code e_type} values qpatch understands (System V gABI, "ELF Header"). */
public enum ElfType {
  /** ET_REL: a relocatable object, what {@code gcc -c} produces. */
  REL(1),
  /** ET_EXEC: an executable linked at a fixed address (non-PIE). */
  EXEC(2),
  /** ET_DYN: a shared object or a position-independent executable. */
  DYN(3),
  /** ET_CORE: a core dump. */
  CORE(4);

  private final int code;

  ElfType(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  /** The type for {@code code}, or null when it is none of the above. */
  static ElfType of(int code) {
    for (ElfType t : values()) {
      if (t.code == code) return t;
    }
    return null;
  }
}
