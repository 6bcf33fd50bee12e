package io.qpatch.trace;

import io.qpatch.arch.x86_64.Decoder;
import io.qpatch.error.QpatchException;
import io.qpatch.error.RefusedException;
import io.qpatch.proc.Target;
import io.qpatch.sys.Syscall;
import io.qpatch.sys.TimeStampCounter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Probes as code in the target itself: each probed function's entry becomes a 5-byte
 * {@code jmp} to a trampoline that writes a record (registers, thread id, goroutine id,
 * time-stamp counter) into a ring buffer shared with our JVM, then runs the displaced
 * instructions and jumps back ({@link InProcCode}, {@link InProcSite}, {@link InProcRing}).
 * No trap, no kernel entry but one gettid; this class reads the ring on its own thread.
 *
 * <p>Planting and removal happen with every thread stopped and none inside the bytes
 * being replaced; in between the target runs detached. A full ring makes a probed call
 * wait for us, but only while we keep renewing a deadline in the ring ({@link
 * #WAIT_NANOS} ahead, at every drain): if we die or stall, the trampolines count lost
 * events past it and the target runs on. (A Go thread waiting there is at no safe point,
 * so a stop-the-world waits for it too: bounded the same way.) Lossy mode never renews
 * the deadline: a full ring drops at once. Removal restores the original bytes, lets the
 * target run a moment so that any thread still in a trampoline (or in a signal handler
 * that interrupted one) leaves it, and unmaps the trampolines and the ring only if no
 * thread's pc is in them; otherwise they stay mapped, unused.
 */
public final class InProcBackend implements Backend {
  /** 64 Ki records of 128 bytes: 8 MiB, a few ms of a hot loop, ~70 ms of a Go start-up. */
  public static final int DEFAULT_CAPACITY = 1 << 16;
  private static final long GRACE_NANOS = 20_000_000;
  private static final long MIN_PARK_NANOS = 20_000;
  private static final long MAX_PARK_NANOS = 1_000_000;
  /**
   * Records per drain. The deadline is renewed before each, so one batch through the
   * sinks, even before the JIT has compiled them (~25 us a record measured), must take
   * well under {@link #WAIT_NANOS}.
   */
  private static final int BATCH = 256;
  /**
   * How long a producer may wait for room after our last poll: longer than a poll takes
   * (a batch through the sinks, a GC pause), short enough that a target whose tracer has
   * died or stalled pauses only once, briefly.
   */
  static final long WAIT_NANOS = 200_000_000;
  /** A ring holds at most this many bytes of records (so 16 Ki of the largest). */
  private static final long MAX_RING_BYTES = 32L << 20;

  private final Target target;
  private final BooleanSupplier alive;
  private final int capacity;
  private final boolean lossy;
  /** Each probed call waits until we have read its record (the loader's gate). */
  private final boolean waitsForReader;
  /** How far ahead of the counter we keep the deadline producers wait until. */
  private final long waitNanos;
  private final Decoder decoder = Decoder.shared();
  /** Every site, by the index its records carry; appended to while the trace runs. */
  private final List<Numbered> sites = new CopyOnWriteArrayList<>();
  private final List<InProcRegion> regions = new CopyOnWriteArrayList<>();
  private final List<InProcRing.Record> batch = new ArrayList<>();
  private final ForeignThreads threads;
  /**
   * Held while we are attached to add probes, and by the reader while it asks whether the
   * process lives: for a launched program that question is a waitpid, which would take the
   * ptrace stops meant for the attaching tracer.
   */
  private final ReentrantLock attached = new ReentrantLock();
  private HitConsumer consumer;
  /** The plan {@link #refusals} analysed, its probe-able sites and its refusals. */
  private ProbePlan analysed;
  private List<InProcSite> analysedSites;
  private Map<ProbeSite, String> analysedRefusals;
  private TscClock clock;
  private volatile boolean stopRequested;
  private boolean removed;
  private long hits;
  private long lost;

  /**
   * @param target attached, used to plant the probes; removal attaches anew, so the
   *     caller may detach it once {@link #install} returns
   * @param alive false once the process has exited
   * @param capacity ring records, a power of two of at least 32
   * @param lossy a full ring drops events at once instead of making the target wait
   */
  public InProcBackend(Target target, BooleanSupplier alive, int capacity, boolean lossy) {
    this(target, alive, capacity, lossy, false, WAIT_NANOS);
  }

  private InProcBackend(Target target, BooleanSupplier alive, int capacity, boolean lossy, boolean waitsForReader,
      long waitNanos) {
    if (capacity < 32 || Integer.bitCount(capacity) != 1) {
      throw new IllegalArgumentException("ring capacity must be a power of two >= 32: " + capacity);
    }
    this.target = target;
    this.alive = alive;
    this.capacity = capacity;
    this.lossy = lossy;
    this.waitsForReader = waitsForReader;
    this.waitNanos = waitNanos;
    this.threads = new ForeignThreads(target.pid());
  }

  /**
   * A backend whose probed calls each wait, up to {@code waitNanos} after our last look at
   * the ring, until the consumer has returned from their hit: {@link LoaderGate}'s.
   */
  static InProcBackend waitingForReader(Target target, BooleanSupplier alive, long waitNanos) {
    return new InProcBackend(target, alive, 32, false, true, waitNanos);
  }

  public InProcBackend(Target target, BooleanSupplier alive, int capacity) {
    this(target, alive, capacity, false);
  }

  public InProcBackend(Target target, BooleanSupplier alive) {
    this(target, alive, DEFAULT_CAPACITY, false);
  }

  public InProcBackend(Target target, BooleanSupplier alive, boolean lossy) {
    this(target, alive, DEFAULT_CAPACITY, lossy);
  }

  /** Why this backend cannot give what {@code plan} asks, or null: a function whose captured values would not fit a record. */
  public static String cannotHonour(ProbePlan plan) {
    if (shapeFor(plan, capturesOf(plan)) == null) {
      return "the inproc backend cannot capture more than " + InProcRing.Shape.MAX_STRIDE
          + " bytes of a call's arguments: narrow the filter, or use the ptrace or uprobe backend";
    }
    return null;
  }

  /** What each site captures at the call, laid out after the fixed part of {@link #shapeFor}'s records. */
  private static Map<ProbeSite, InProcCaptures> capturesOf(ProbePlan plan) {
    Map<ProbeSite, InProcCaptures> out = new HashMap<>();
    if (plan.argDecoder() == null) return out;
    long base = xmm(plan) ? InProcRing.RECORD_WITH_XMM_BYTES : InProcRing.RECORD_BYTES;
    for (ProbeSite s : plan.sites()) {
      out.put(s, InProcCaptures.of(plan.argDecoder().captures(s.function(), s.kind()), base));
    }
    return out;
  }

  /** The records {@code plan} needs; null when a site's captures do not fit the largest. */
  private static InProcRing.Shape shapeFor(ProbePlan plan, Map<ProbeSite, InProcCaptures> captures) {
    long bytes = 0;
    for (InProcCaptures c : captures.values()) bytes = Math.max(bytes, c.end());
    return InProcRing.Shape.holding(xmm(plan), bytes);
  }

  private static boolean xmm(ProbePlan plan) {
    return plan.argDecoder() != null && plan.argDecoder().floatUser(plan.sites()) != null;
  }

  /** Why this backend cannot run here, or null. */
  public static String unavailableReason() {
    return TscClock.unreliableReason();
  }

  /**
   * The sites of {@code plan} that {@link #install} would refuse, and why, found without
   * writing anything; the analysis is kept for {@code install(plan)}.
   */
  public Map<ProbeSite, String> refusals(ProbePlan plan) {
    if (analysed != plan) {
      analysedRefusals = new LinkedHashMap<>();
      analysedSites = analyse(target, plan, capturesOf(plan), analysedRefusals);
      analysed = plan;
    }
    return java.util.Collections.unmodifiableMap(analysedRefusals);
  }

  @Override
  public String name() {
    return "inproc";
  }

  @Override
  @SuppressWarnings("try") // the stop is held for the body and released by close()
  public Map<ProbeSite, String> install(ProbePlan plan, HitConsumer consumer) {
    this.consumer = consumer;
    Map<ProbeSite, InProcCaptures> captures = capturesOf(plan);
    InProcRing.Shape shape = shapeFor(plan, captures);
    if (shape == null) throw new RefusedException(cannotHonour(plan));
    Map<ProbeSite, String> refused = new LinkedHashMap<>(refusals(plan));
    List<InProcSite> fresh = analysedSites;
    if (fresh.isEmpty()) return refused;
    clock = new TscClock();
    try (Target.Stopped stopped = target.stop()) {
      if (target.isLaunched()) settleAfterExec();
      plant(target, fresh, shape, refused);
    }
    keepProducersWaiting();
    return refused;
  }

  /**
   * A library mapped while the trace runs: attaches, plants its probes in regions of
   * their own, detaches. False when it cannot (the trace is ending, the process is gone,
   * or a capture would not fit).
   */
  @Override
  @SuppressWarnings("try") // the stop is held for the body and released by close()
  public synchronized boolean addWhileRunning(ProbePlan lib) {
    if (removed || stopRequested || clock == null || cannotHonour(lib) != null) return false;
    Map<ProbeSite, InProcCaptures> captures = capturesOf(lib);
    Map<ProbeSite, String> refused = new LinkedHashMap<>();
    attached.lock();
    try {
      return withTarget(t -> {
        try (Target.Stopped stopped = t.stop()) {
          List<InProcSite> fresh = analyse(t, lib, captures, refused);
          if (!fresh.isEmpty()) plant(t, fresh, shapeFor(lib, captures), refused);
          return true;
        }
      });
    } catch (QpatchException e) {
      return false;
    } finally {
      attached.unlock();
    }
  }

  /** One region per cluster of {@code fresh} (appended to the sites first: their indexes are in the code). */
  private void plant(Target t, List<InProcSite> fresh, InProcRing.Shape shape, Map<ProbeSite, String> refused) {
    int ringCapacity = (int) Math.min(capacity, Math.max(32, MAX_RING_BYTES / shape.stride()));
    for (List<InProcSite> cluster : InProcRegion.clusters(fresh)) {
      regions.add(InProcRegion.plant(t, cluster, ringCapacity, shape, decoder, refused, this::keepWaiting,
          waitsForReader));
    }
  }

  /**
   * Runs {@code work} on the target attached: the caller's while it still holds it (a
   * trace with the ptrace backend, which this one gates), else attached anew for it.
   */
  private <T> T withTarget(java.util.function.Function<Target, T> work) {
    if (target.isAttached()) return work.apply(target);
    try (Target t = Target.attach(target.pid())) {
      return work.apply(t);
    }
  }

  /**
   * A launched program is held at its exec event, inside execve: the first system call we
   * make it run has its rax overwritten with execve's result (0, read) when the kernel
   * finishes the interrupted execve on resume. So the first one is a getpid whose
   * arguments make that read harmless (fd -1: EBADF).
   */
  private void settleAfterExec() {
    target.syscall(Syscall.GETPID, -1, 0, 0);
  }

  /** What a record's site number stands for: the probe, and what its records capture. */
  private record Numbered(ProbeSite site, InProcCaptures captures) {}

  /**
   * The sites of {@code plan} that can be probed, numbered after those already here. A
   * return probe that has no room of its own (its function is too short, or its bytes
   * would overlap the entry's) is made by the entry's trampoline when the function runs
   * straight to it ({@link InProcSite#withExit}): it is numbered, but planted by its entry.
   */
  private List<InProcSite> analyse(Target t, ProbePlan plan, Map<ProbeSite, InProcCaptures> captures,
      Map<ProbeSite, String> refused) {
    Map<Long, byte[]> codeOf = new HashMap<>();
    Map<Long, byte[]> afterOf = new HashMap<>();
    Map<Long, List<InProcSite>> ofFunction = new HashMap<>();
    List<InProcSite> out = new ArrayList<>();
    List<Numbered> numbered = new ArrayList<>();
    for (ProbeSite site : plan.sites()) {
      TracedFunction fn = site.function();
      InProcCaptures c = captures.getOrDefault(site, InProcCaptures.NONE);
      int index = sites.size() + numbered.size();
      try {
        if (fn.size() <= 0 || fn.size() > (1 << 24)) throw new InProcSite.Refusal("its size is unknown");
        byte[] code = codeOf.computeIfAbsent(fn.entry(), e -> t.read(e, (int) fn.size()));
        byte[] after = afterOf.computeIfAbsent(fn.entry(), e -> after(t, e + code.length));
        List<InProcSite> siblings = ofFunction.computeIfAbsent(fn.entry(), e -> new ArrayList<>());
        InProcSite s = placed(site, index, code, after, plan, c, siblings);
        if (s.site() != site) { // the entry's site, now making this return too: it takes the entry's place
          InProcSite entry = siblings.stream().filter(x -> x.site() == s.site()).findFirst().orElseThrow();
          out.set(out.indexOf(entry), s);
          siblings.set(siblings.indexOf(entry), s);
        } else {
          siblings.add(s);
          out.add(s);
        }
        numbered.add(new Numbered(site, c));
      } catch (InProcSite.Refusal | QpatchException e) {
        refused.put(site, e.getMessage());
      }
    }
    sites.addAll(numbered);
    return out;
  }

  /**
   * The site that probes {@code site}: its own, or, for a return probe that has no room of
   * its own, its entry's made to record it too (then that entry's new site).
   */
  private InProcSite placed(ProbeSite site, int index, byte[] code, byte[] after, ProbePlan plan,
      InProcCaptures c, List<InProcSite> siblings) throws InProcSite.Refusal {
    InProcSite.Refusal why;
    try {
      InProcSite own = InProcSite.of(site, index, code, after, plan, c, decoder);
      InProcSite other = overlapping(siblings, own);
      if (other == null) return own;
      why = new InProcSite.Refusal("its " + site.kind().name().toLowerCase(java.util.Locale.ROOT)
          + " probe at 0x" + Long.toHexString(site.address()) + " shares bytes with its probe at 0x"
          + Long.toHexString(other.site().address()));
    } catch (InProcSite.Refusal e) {
      why = e;
    }
    InProcSite merged = site.kind() == ProbeSite.Kind.RETURN ? mergedWithEntry(site, index, c, siblings) : null;
    if (merged == null) throw why;
    return merged;
  }

  private InProcSite mergedWithEntry(ProbeSite site, int index, InProcCaptures c, List<InProcSite> siblings) {
    for (InProcSite s : siblings) {
      if (s.site().kind() == ProbeSite.Kind.CALL) return s.withExit(site, index, c, decoder);
    }
    return null;
  }

  /**
   * The bytes after a function, where a jump may take alignment padding (a short function's
   * entry, a short last block's return): enough for the jump and the longest nop; none when
   * they are not mapped (the function ends its segment).
   */
  private static byte[] after(Target t, long end) {
    try {
      return t.read(end, InProcSite.PATCH_BYTES + Decoder.MAX_INSTRUCTION_LENGTH);
    } catch (QpatchException e) {
      return new byte[0];
    }
  }

  /** A site of {@code sites} (probes of one function) whose patched bytes overlap those of {@code s}, or null. */
  private static InProcSite overlapping(List<InProcSite> sites, InProcSite s) {
    for (InProcSite o : sites) {
      if (o.at() < s.end() && s.at() < o.end()) return o;
    }
    return null;
  }

  // ---- reading --------------------------------------------------------------------------

  @Override
  public void run() {
    long park = MIN_PARK_NANOS;
    long nextAliveCheck = 0;
    while (!stopRequested) {
      if (poll() > 0) {
        park = MIN_PARK_NANOS;
        continue;
      }
      long now = System.nanoTime();
      if (now >= nextAliveCheck && attached.tryLock()) {
        try {
          if (!alive.getAsBoolean()) break;
        } finally {
          attached.unlock();
        }
        nextAliveCheck = now + 10_000_000;
      }
      LockSupport.parkNanos(park);
      park = Math.min(park * 2, MAX_PARK_NANOS);
    }
    poll();
  }

  /** Delivers every published record of every ring; returns how many there were. */
  private int poll() {
    int total = 0;
    long dropped = 0;
    for (InProcRegion r : regions) {
      int n;
      do {
        keepWaiting(r.ring());
        batch.clear();
        n = r.ring().drain(batch, BATCH);
        try {
          for (InProcRing.Record rec : batch) deliver(rec);
        } finally {
          r.ring().release(); // a gated producer waits for this, whatever the consumer did
        }
        total += n;
      } while (n == BATCH);
      dropped += r.ring().lost();
    }
    lost = dropped;
    if (clock != null) clock.refine();
    return total;
  }

  /** The process is gone: every record it finished, past any a killed thread left unfinished. */
  private void drainAfterExit() {
    for (InProcRegion r : regions) {
      batch.clear();
      r.ring().drainAfterExit(batch);
      for (InProcRing.Record rec : batch) deliver(rec);
    }
  }

  private void keepProducersWaiting() {
    for (InProcRegion r : regions) keepWaiting(r.ring());
  }

  /** Renews the deadline full-ring (or gated) producers wait until (never in lossy mode). */
  private void keepWaiting(InProcRing ring) {
    if (!lossy) ring.waitUntil(TimeStampCounter.read() + clock.ticks(waitNanos));
  }

  private void deliver(InProcRing.Record r) {
    if (r.site() < 0 || r.site() >= sites.size()) return; // not a record we could have written
    if (threads.isForeign(r.tid())) return; // a vfork child running in the target's memory
    Numbered s = sites.get(r.site());
    long[] regs = r.regs();
    regs[SampleRegs.IP] = s.site().address();
    hits++;
    long time = clock.nanos(r.tsc());
    long goid = r.goid() == InProcRing.GOID_NOT_READ ? TraceEvent.NO_GOID : r.goid();
    InProcCaptures c = s.captures();
    if (c.isEmpty()) consumer.hit(s.site(), r.tid(), time, regs, goid);
    else consumer.hit(s.site(), r.tid(), time, regs, goid, new CapturedMemory(c.captures(), c.bytes(r.rest()), regs));
  }

  @Override
  public void requestStop() {
    stopRequested = true;
  }

  // ---- removal --------------------------------------------------------------------------

  @Override
  public synchronized void remove() {
    if (removed) return;
    removed = true;
    if (regions.isEmpty()) return;
    try {
      if (alive.getAsBoolean()) unpatch();
    } catch (QpatchException e) {
      // the process exited while we restored it: nothing is left to restore
    } finally {
      poll();
      if (!alive.getAsBoolean()) drainAfterExit();
      for (InProcRegion r : regions) {
        r.ring().waitUntil(0); // a thread still in a trampoline must not wait for a reader that is leaving
        r.closeLocal();
      }
      regions.clear();
    }
  }

  /** Restores every entry, lets in-flight records land, then frees the areas it can. */
  @SuppressWarnings("try") // the stop is held for the body and released by close()
  private void unpatch() {
    withTarget(t -> {
      try (Target.Stopped stopped = t.stop()) {
        for (InProcRegion r : regions) r.restore(t);
      }
      long until = System.nanoTime() + GRACE_NANOS;
      while (System.nanoTime() < until) {
        if (poll() == 0) LockSupport.parkNanos(MIN_PARK_NANOS * 10);
      }
      try (Target.Stopped stopped = t.stop()) {
        poll();
        List<Long> pcs = InProcRegion.pcs(t);
        for (InProcRegion r : regions) r.release(t, pcs);
      }
      return null;
    });
  }

  @Override
  public BackendStats stats() {
    return new BackendStats(hits, lost, 0);
  }
}
