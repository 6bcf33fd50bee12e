package io.qpatch.trace;

import io.qpatch.trace.go.GEntry;

/**
 * Reads the goroutine id of a probe hit from the registers and memory as they are at the
 * call, for a backend whose thread is still stopped there (ptrace): g from R14 for
 * ABIInternal code, from thread-local storage ({@code [fs_base + gTlsOffset]}) for ABI0
 * code, then {@code [g + goidOffset]} (runtime/runtime2.go, {@code type g}). Never from
 * memory read later: by then the goroutine may have moved on, exited or been reused.
 */
final class GoidReader {
  private final long goidOffset;
  private final long gTlsOffset;

  /**
   * @param goidOffset offset of goid in runtime.g, -1 when the program is not Go
   * @param gTlsOffset where g is relative to the fs base, or {@link ProbePlan#NO_TLS}
   */
  GoidReader(long goidOffset, long gTlsOffset) {
    this.goidOffset = goidOffset;
    this.gTlsOffset = gTlsOffset;
  }

  static GoidReader of(ProbePlan plan) {
    return new GoidReader(plan.goidOffset(), plan.gTlsOffset());
  }

  /** The goid at this hit, or {@link TraceEvent#NO_GOID} when g is not known there. */
  long at(TracedFunction fn, long[] regs, TargetMemory memory) {
    if (goidOffset < 0) return TraceEvent.NO_GOID;
    try {
      long g = g(fn.g(), regs, memory);
      return g == 0 ? TraceEvent.NO_GOID : memory.read8(g + goidOffset);
    } catch (RuntimeException e) { // unreadable: TLS not set up yet (the first instructions of a program)
      return TraceEvent.NO_GOID;
    }
  }

  private long g(GEntry where, long[] regs, TargetMemory memory) {
    return switch (where) {
      case REGISTER -> regs[SampleRegs.R14];
      case TLS -> gTlsOffset == ProbePlan.NO_TLS || regs[SampleRegs.FS_BASE] == 0 ? 0
          : memory.read8(regs[SampleRegs.FS_BASE] + gTlsOffset);
      case UNKNOWN -> 0;
    };
  }
}
