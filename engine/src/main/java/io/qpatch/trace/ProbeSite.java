package io.qpatch.trace;

/**
 * One place a breakpoint goes: a function's entry (or the branch after its stack check)
 * or one of its return instructions.
 *
 * @param address run-time address of the probed instruction
 * @param fileOffset where that instruction lies in the executable file (for uprobes)
 * @param kind call or return
 * @param function the function it belongs to
 * @param displaced what executing the probed instruction does, for the ptrace backend
 *     (which never single-steps: it carries the instruction out itself)
 */
public record ProbeSite(
    long address, long fileOffset, Kind kind, TracedFunction function, Displaced displaced) {

  public enum Kind {
    CALL,
    RETURN
  }

  /**
   * False when the hit does not count as a call given the flags at the probe: the Go
   * stack check's branch taken to morestack (the function restarts from its entry after
   * the stack grew, and is reported then).
   */
  public boolean counts(long flags) {
    return !(displaced instanceof Displaced.Jcc j) || !j.skipWhenTaken() || !Flags.holds(j.cond(), flags);
  }

  @Override
  public String toString() {
    return kind + " " + function.name() + " at 0x" + Long.toHexString(address) + " (" + displaced + ")";
  }
}
