package io.qpatch.trace;

import java.util.List;

/**
 * Turns probe hits into {@link TraceEvent}s: takes the goroutine id the backend read at
 * the call (or reads it while the thread is stopped there), picks the ABI's
 * argument or result registers, pairs returns with calls, decodes arguments when asked,
 * and hands each event to every sink.
 */
final class EventAssembler implements HitConsumer {
  private final List<EventSink> sinks;
  private final TargetMemory memory;
  private final GoidReader goids;
  private final ArgDecoder decoder;
  private final CallPairing pairing = new CallPairing();

  /**
   * @param goids reads a goid at a hit whose thread is stopped there
   * @param decoder null for raw registers only
   */
  EventAssembler(List<EventSink> sinks, TargetMemory memory, GoidReader goids, ArgDecoder decoder) {
    this.sinks = List.copyOf(sinks);
    this.memory = memory;
    this.goids = goids;
    this.decoder = decoder;
  }

  /** A hit whose thread is stopped at the probe: the goid is read now. */
  @Override
  public void hit(ProbeSite site, int tid, long timeNanos, long[] regs) {
    hit(site, tid, timeNanos, regs, goidAt(site, regs));
  }

  /** Only decoding reads the target's memory at a hit; the goid is read by {@link #goidAt}. */
  @Override
  public boolean needsStoppedThread() {
    return decoder != null;
  }

  @Override
  public long goidAt(ProbeSite site, long[] regs) {
    return goids.at(site.function(), regs, memory);
  }

  /** A hit whose thread is stopped at the probe (or is past it, with nothing to decode). */
  @Override
  public void hit(ProbeSite site, int tid, long timeNanos, long[] regs, long goid) {
    hit(site, tid, timeNanos, regs, goid, memory);
  }

  @Override
  public void hit(ProbeSite site, int tid, long timeNanos, long[] regs, long goid, TargetMemory atProbe) {
    TracedFunction fn = site.function();
    long key = CallPairing.key(tid, goid);
    String decoded = decoder == null ? null : decodeQuietly(fn, site.kind(), regs, atProbe);
    TraceEvent e;
    if (site.kind() == ProbeSite.Kind.CALL) {
      pairing.call(key, fn, timeNanos);
      e = new TraceEvent(site.kind(), tid, goid, timeNanos, fn, values(fn.abi().argumentSlots(), regs), -1, decoded);
    } else {
      CallPairing.Paired p = pairing.pair(key, fn, timeNanos);
      if (p != null) {
        for (CallPairing.Abandoned a : p.abandoned()) emit(TraceEvent.noReturnSeen(tid, goid, timeNanos, a.function(), a.duration()));
      }
      e = new TraceEvent(site.kind(), tid, goid, timeNanos, fn, values(fn.abi().resultSlots(), regs),
          p == null ? -1 : p.duration(), decoded);
    }
    emit(e);
  }

  private void emit(TraceEvent e) {
    for (EventSink s : sinks) s.accept(e);
  }

  private String decodeQuietly(TracedFunction fn, ProbeSite.Kind kind, long[] regs, TargetMemory atProbe) {
    try {
      return decoder.decode(fn, kind, regs, atProbe);
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
