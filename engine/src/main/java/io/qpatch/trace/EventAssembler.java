package io.qpatch.trace;

import java.util.List;

/**
 * Turns probe hits into {@link TraceEvent}s: reads the goroutine id, picks the ABI's
 * argument or result registers, pairs returns with calls, decodes arguments when asked,
 * and hands each event to every sink.
 */
final class EventAssembler implements HitConsumer {
  private final List<EventSink> sinks;
  private final TargetMemory memory;
  private final long goidOffset;
  private final ArgDecoder decoder;
  private final CallPairing pairing = new CallPairing();
  private boolean readsLate;

  /**
   * @param goidOffset offset of goid in runtime.g, or -1 for a program that is not Go
   * @param decoder null for raw registers only
   */
  EventAssembler(List<EventSink> sinks, TargetMemory memory, long goidOffset, ArgDecoder decoder) {
    this.sinks = List.copyOf(sinks);
    this.memory = memory;
    this.goidOffset = goidOffset;
    this.decoder = decoder;
  }

  @Override
  public void hit(ProbeSite site, int tid, long timeNanos, long[] regs) {
    hit(site, tid, timeNanos, regs, goid(site.function(), regs));
  }

  /** Only decoding reads the target's memory at a hit; the goid is read by {@link #goidAt}. */
  @Override
  public boolean needsStoppedThread() {
    return decoder != null;
  }

  @Override
  public long goidAt(ProbeSite site, long[] regs) {
    return goid(site.function(), regs);
  }

  @Override
  public void hit(ProbeSite site, int tid, long timeNanos, long[] regs, long goid) {
    TracedFunction fn = site.function();
    long key = CallPairing.key(tid, goid);
    TraceEvent e;
    if (site.kind() == ProbeSite.Kind.CALL) {
      pairing.call(key, fn.id(), timeNanos);
      String decoded = decoder == null ? null : decodeQuietly(fn, regs);
      e = new TraceEvent(site.kind(), tid, goid, timeNanos, fn, values(fn.abi().argumentSlots(), regs), -1, decoded);
    } else {
      long duration = pairing.ret(key, fn.id(), timeNanos);
      e = new TraceEvent(site.kind(), tid, goid, timeNanos, fn, values(fn.abi().resultSlots(), regs), duration, null);
    }
    for (EventSink s : sinks) s.accept(e);
  }

  /**
   * [R14 + goid offset]: R14 holds the running goroutine's g in Go's ABIInternal. Checked
   * first: g.stack (runtime2.go: {@code stack stack} at offset 0, lo then hi) must contain
   * RSP, which rules out assembly (ABI0) code where R14 is just another register.
   *
   * <p>The uprobe backend reads g after the fact ({@link #readsLate}): by then the
   * goroutine's stack may have moved (copystack when it grew) or been freed (gfput in
   * proc.go zeroes stack.lo/hi for a stack of unusual size when the goroutine exits; the
   * goid stays until the g is reused). Then any stack that looks like a Go stack (a
   * power-of-two size from 2 KiB to 1 GiB, 2 KiB aligned: stackalloc in stack.go), or
   * none, is accepted.
   */
  private long goid(TracedFunction fn, long[] regs) {
    if (goidOffset < 0 || !fn.goroutineAware()) return TraceEvent.NO_GOID;
    long g = regs[SampleRegs.R14];
    if (g == 0 || goidOffset > 4096) return TraceEvent.NO_GOID;
    byte[] b;
    try {
      b = memory.read(g, (int) goidOffset + 8);
    } catch (RuntimeException e) {
      return TraceEvent.NO_GOID;
    }
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    long lo = buf.getLong(0);
    long hi = buf.getLong(8);
    long sp = regs[SampleRegs.SP];
    boolean onStack = Long.compareUnsigned(sp, lo) >= 0 && Long.compareUnsigned(sp, hi) <= 0;
    if (!onStack && !(readsLate && (lo == 0 && hi == 0 || looksLikeStack(lo, hi)))) {
      return TraceEvent.NO_GOID;
    }
    return buf.getLong((int) goidOffset);
  }

  private static boolean looksLikeStack(long lo, long hi) {
    long size = hi - lo;
    return lo > 0 && size >= 2048 && size <= (1L << 30) && Long.bitCount(size) == 1 && (lo & 2047) == 0;
  }

  /** The backend delivers hits after the fact (uprobe): see {@link #goid}. */
  void readsLate(boolean late) {
    this.readsLate = late;
  }

  private String decodeQuietly(TracedFunction fn, long[] regs) {
    try {
      return decoder.decode(fn, regs, memory);
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static long[] values(int[] slots, long[] regs) {
    long[] out = new long[slots.length];
    for (int i = 0; i < slots.length; i++) out[i] = regs[slots[i]];
    return out;
  }

  void start(int pid) {
    for (EventSink s : sinks) s.start(pid);
  }

  void finish(TraceReport report) {
    for (EventSink s : sinks) s.finish(report);
  }
}
