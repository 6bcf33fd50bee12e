package io.qpatch.trace;

import io.qpatch.error.RefusedException;
import io.qpatch.proc.Target;
import io.qpatch.proc.Tracer;
import io.qpatch.sys.Registers;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Probes as int3 breakpoints in the target's code ({@link Breakpoints}), answered by the
 * tracer thread in a blocking event loop. A hit costs one stop: read the registers, report
 * the hit, carry out the displaced instruction ({@link Displaced}: emulated, or run out of
 * line), write the registers, continue. Never a single step, and nothing is written to the
 * target but the int3 bytes and, for instructions that are not emulated, a trampoline area
 * placed for all of the plan's at once.
 */
public final class PtraceBackend implements Backend {
  private final Target target;
  private final Breakpoints breakpoints;
  private HitConsumer consumer;
  /** Sites whose decoding reads floating-point registers (fetched at their hits only). */
  private final java.util.Set<ProbeSite> readsFloats = new java.util.HashSet<>();
  private final java.lang.foreign.MemorySegment fpRegs =
      java.lang.foreign.Arena.ofAuto().allocate(io.qpatch.sys.Ptrace.FPREGS_BYTES, 16);
  private volatile boolean stopRequested;
  private long hits;
  private long skippedTaken;
  /** A hit whose thread has been let go, not yet handed to the consumer (tracer thread only). */
  private Hit pending;

  private record Hit(ProbeSite site, int tid, long timeNanos, long[] regs, long goid) {}

  public PtraceBackend(Target target) {
    this.target = target;
    this.breakpoints = new Breakpoints(target);
  }

  @Override
  public String name() {
    return "ptrace";
  }

  /** Every hit is a ptrace stop of the session's target. */
  @Override
  public boolean holdsTheTarget() {
    return true;
  }

  @Override
  public Map<ProbeSite, String> install(ProbePlan plan, HitConsumer consumer) {
    this.consumer = consumer;
    Map<ProbeSite, String> refused = new LinkedHashMap<>();
    if (plan.argDecoder() != null) {
      for (ProbeSite s : plan.sites()) if (plan.argDecoder().readsFloats(s.function(), s.kind())) readsFloats.add(s);
    }
    Tracer.get().run(() -> plantAll(plan, refused, true));
    return refused;
  }

  /** Plans queued by {@link #addWhileRunning}, planted on the tracer thread between events. */
  private final LaterPlans later = new LaterPlans();

  /** Planted on the tracer thread between events; returns once they are (false: the trace ended first). */
  @Override
  public boolean addWhileRunning(ProbePlan more) {
    return later.addAndWait(more, target::wakeEvents);
  }

  private void plantLater() {
    later.plantEach(p -> plantAll(p, new LinkedHashMap<>(), false));
  }

  @SuppressWarnings("try") // the stop is held for the body and released by close()
  private void plantAll(ProbePlan plan, Map<ProbeSite, String> refused, boolean first) {
    try (Target.Stopped stopped = target.stop()) {
      Map<ProbeSite, Long> trampolines = placeOutOfLine(plan, refused);
      for (ProbeSite site : plan.sites()) {
        if (refused.containsKey(site) || breakpoints.isPlanted(site.address())) continue;
        Displaced how = site.displaced() instanceof Displaced.Relocated
            ? new Displaced.OutOfLine(trampolines.get(site)) : site.displaced();
        try {
          breakpoints.plant(site.address(), how, (tid, regs) -> onHit(site, tid, regs));
        } catch (RefusedException e) {
          refused.put(site, e.getMessage());
        }
      }
      if (first) breakpoints.start(breakpoints.size() > 0);
    }
  }

  private Map<ProbeSite, Long> placeOutOfLine(ProbePlan plan, Map<ProbeSite, String> refused) {
    Map<ProbeSite, Long> placed = OutOfLineArea.newPlacement();
    Map<String, List<ProbeSite>> byFile = new LinkedHashMap<>();
    for (ProbeSite s : OutOfLineArea.relocatedSites(plan.sites())) {
      byFile.computeIfAbsent(s.function().fileOr(plan.executable()), f -> new java.util.ArrayList<>()).add(s);
    }
    // one area below each file, within reach of the RIP-relative operands of its code
    byFile.forEach((file, sites) -> breakpoints.adopt(OutOfLineArea.place(target, file, sites, placed, refused)));
    return placed;
  }

  @Override
  public void run() {
    try {
      target.serveEvents(() -> {
        handOver();
        if (!stopRequested) plantLater();
        return stopRequested;
      });
    } finally {
      later.close();
      Tracer.get().run(this::handOver);
    }
  }

  /** Gives the pending hit to the consumer; on the tracer thread, after its thread was let go. */
  private void handOver() {
    Hit h = pending;
    if (h == null) return;
    pending = null;
    try {
      consumer.hit(h.site(), h.tid(), h.timeNanos(), h.regs(), h.goid());
    } catch (RuntimeException e) { // as a failing breakpoint action: reported, the trace goes on
      io.qpatch.error.Warnings.warn("probe at 0x" + Long.toHexString(h.site().address()) + ": " + e);
    }
  }

  @Override
  public void requestStop() {
    stopRequested = true;
    target.wakeEvents();
  }

  /** The hot path: on the tracer thread, the hitting thread stopped at the probe. */
  private boolean onHit(ProbeSite site, int tid, Registers regs) {
    long now = System.nanoTime();
    long[] sample = SampleRegs.of(regs);
    if (readsFloats.contains(site)) readXmm(tid, sample);
    if (site.counts(sample[SampleRegs.FLAGS])) {
      hits++;
      handOver(); // a hit answered outside the event loop (while installing, say) comes first
      if (consumer.needsStoppedThread()) consumer.hit(site, tid, now, sample);
      else pending = new Hit(site, tid, now, sample, consumer.goidAt(site, sample));
    } else {
      skippedTaken++;
    }
    return true;
  }

  /** XMM0-15's low 64 bits into the sample's X slots (user_fpregs_struct.xmm_space). */
  private void readXmm(int tid, long[] sample) {
    io.qpatch.sys.Ptrace.getFpRegs(tid, fpRegs);
    for (int i = 0; i < SampleRegs.XMM_COUNT; i++) {
      sample[SampleRegs.X0 + i] = fpRegs.get(java.lang.foreign.ValueLayout.JAVA_LONG, io.qpatch.sys.Ptrace.FPREGS_XMM0 + 16L * i);
    }
  }

  @Override
  public void remove() {
    breakpoints.removeAll();
    Tracer.get().run(this::handOver);
  }

  @Override
  public BackendStats stats() {
    return new BackendStats(hits, 0, skippedTaken);
  }
}
