package io.qpatch.dwarf;

import java.util.List;

/**
 * A function with code: a DW_TAG_subprogram with low and high pc. Its parameters are
 * read on first use.
 */
public final class DwarfFunction {
  private final FunctionReader reader;
  private final long dieOffset;
  private final String name;
  private final String linkageName;
  private final long lowPc;
  private final long highPc;
  private List<DwarfParam> params;

  DwarfFunction(FunctionReader reader, long dieOffset, String name, String linkageName,
      long lowPc, long highPc) {
    this.reader = reader;
    this.dieOffset = dieOffset;
    this.name = name;
    this.linkageName = linkageName;
    this.lowPc = lowPc;
    this.highPc = highPc;
  }

  /** "main.work", "(*main.T).M" as Go writes it, or the C/C++ source name ("add"). */
  public String name() {
    return name;
  }

  /** The mangled name of a C++ function (DW_AT_linkage_name), or null. */
  public String linkageName() {
    return linkageName;
  }

  /** The address of the first instruction, as linked (add the load bias for PIE). */
  public long lowPc() {
    return lowPc;
  }

  /** The address just past the last instruction. */
  public long highPc() {
    return highPc;
  }

  public boolean contains(long pc) {
    return Long.compareUnsigned(pc, lowPc) >= 0 && Long.compareUnsigned(pc, highPc) < 0;
  }

  /** Formal parameters in declaration order; Go lists the receiver first, results last. */
  public synchronized List<DwarfParam> params() {
    if (params == null) params = reader.params(dieOffset);
    return params;
  }

  /** The C/C++ return type; empty for void (and for Go, whose results are parameters). */
  public java.util.Optional<DwarfType> returnType() {
    return reader.returnType(dieOffset);
  }

  /** Parameters that are not Go results. */
  public List<DwarfParam> inputs() {
    return params().stream().filter(p -> !p.output()).toList();
  }

  /** Go results (DW_AT_variable_parameter), in order. */
  public List<DwarfParam> outputs() {
    return params().stream().filter(DwarfParam::output).toList();
  }

  @Override
  public String toString() {
    return String.format("%s [0x%x, 0x%x)", name, lowPc, highPc);
  }
}
