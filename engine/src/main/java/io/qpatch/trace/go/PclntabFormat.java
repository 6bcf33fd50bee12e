package io.qpatch.trace.go;

/**
 * The layouts of Go's function table, told apart by the magic number at its start (see
 * debug/gosym/pclntab.go: go12magic, go116magic, go118magic, go120magic, and
 * runtime/symtab.go {@code pcHeader}).
 */
public enum PclntabFormat {
  /** Go 1.2 to 1.15: functab of (entry, funcoff) uintptr pairs right after the header. */
  GO12(0xfffffffb, 1, 2),
  /** Go 1.16 and 1.17: a header of offsets to the name, file and pc tables. */
  GO116(0xfffffffa, 1, 16),
  /** Go 1.18 and 1.19: 32-bit entry offsets relative to the start of the text. */
  GO118(0xfffffff0, 1, 18),
  /** Go 1.20 and later: the 1.18 layout with a new magic. */
  GO120(0xfffffff1, 1, 20);

  private final int magic;
  private final int firstMajor;
  private final int firstMinor;

  PclntabFormat(int magic, int firstMajor, int firstMinor) {
    this.magic = magic;
    this.firstMajor = firstMajor;
    this.firstMinor = firstMinor;
  }

  /** The format with this magic, or null. */
  static PclntabFormat of(int magic) {
    for (PclntabFormat f : values()) if (f.magic == magic) return f;
    return null;
  }

  /** The earliest Go version that writes this format: a floor when .go.buildinfo is absent. */
  public GoVersion firstVersion() {
    return new GoVersion(firstMajor, firstMinor, 0,
        "go" + firstMajor + "." + firstMinor + " or later (from the pclntab format)");
  }

  boolean hasTextStart() {
    return this == GO118 || this == GO120;
  }
}
