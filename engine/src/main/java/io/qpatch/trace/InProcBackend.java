package io.qpatch.trace;

import io.qpatch.arch.x86_64.Decoder;
import io.qpatch.arch.x86_64.X86Writer;
import io.qpatch.error.QpatchException;
import io.qpatch.error.RefusedException;
import io.qpatch.proc.Target;
import io.qpatch.proc.ThreadInfo;
import io.qpatch.sys.Syscall;
import io.qpatch.sys.TimeStampCounter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
  private static final int PATCH_ROUNDS = 50;
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

  private final Target target;
  private final BooleanSupplier alive;
  private final int capacity;
  private final boolean lossy;
  private final Decoder decoder = Decoder.shared();
  private final List<InProcSite> sites = new ArrayList<>();
  private final Map<InProcSite, byte[]> patched = new LinkedHashMap<>();
  private final List<InProcRing.Record> batch = new ArrayList<>();
  private final ForeignThreads threads;
  private HitConsumer consumer;
  /** The records: with XMM0-15 when the plan decodes floating-point values, and room for its captures. */
  private InProcRing.Shape shape = InProcRing.Shape.PLAIN;
  /** Each site's captured memory (strings, stack arguments), by site. */
  private final Map<ProbeSite, InProcCaptures> captures = new HashMap<>();
  private int ringCapacity;
  private InProcArea area;
  private InProcRing ring;
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
    if (capacity < 32 || Integer.bitCount(capacity) != 1) {
      throw new IllegalArgumentException("ring capacity must be a power of two >= 32: " + capacity);
    }
    this.target = target;
    this.alive = alive;
    this.capacity = capacity;
    this.lossy = lossy;
    this.threads = new ForeignThreads(target.pid());
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

  /**
   * Why this backend cannot give what {@code plan} asks, or null: return probes, functions
   * too far apart, or a function whose captured values would not fit a record.
   */
  public static String cannotHonour(ProbePlan plan, boolean returns) {
    if (returns) return "the inproc backend has no return probes yet (--returns): use --backend uprobe or ptrace";
    long low = plan.sites().stream().mapToLong(ProbeSite::address).min().orElse(0);
    long high = plan.sites().stream().mapToLong(ProbeSite::address).max().orElse(0);
    if (high - low > REACH) {
      return "the inproc backend cannot yet probe functions more than 1 GiB apart (those of "
          + plan.sites().stream().map(s -> new java.io.File(s.function().fileOr(plan.executable())).getName())
              .distinct().collect(java.util.stream.Collectors.joining(", "))
          + "): use --backend uprobe or ptrace";
    }
    if (shapeFor(plan, capturesOf(plan)) == null) {
      return "the inproc backend cannot capture more than " + InProcRing.Shape.MAX_STRIDE
          + " bytes of a call's arguments: narrow -f, or use --backend ptrace or uprobe";
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

  /** A ring holds at most this many bytes of records (so 16 Ki of the largest). */
  private static final long MAX_RING_BYTES = 32L << 20;

  /**
   * The trampolines sit in one area, a 5-byte jmp (rel32, +-2 GiB) from every probe: half
   * of that on either side of the area leaves room for the area itself.
   */
  private static final long REACH = 1L << 30;

  /** Why this backend cannot run here, or null. */
  public static String unavailableReason() {
    return TscClock.unreliableReason();
  }

  @Override
  public String name() {
    return "inproc";
  }

  @Override
  @SuppressWarnings("try") // the stop is held for the body and released by close()
  public Map<ProbeSite, String> install(ProbePlan plan, HitConsumer consumer) {
    this.consumer = consumer;
    captures.putAll(capturesOf(plan));
    shape = shapeFor(plan, captures);
    if (shape == null) throw new RefusedException(cannotHonour(plan, false));
    ringCapacity = (int) Math.min(capacity, Math.max(32, MAX_RING_BYTES / shape.stride()));
    Map<ProbeSite, String> refused = new LinkedHashMap<>();
    analyse(plan, refused);
    if (sites.isEmpty()) return refused;
    clock = new TscClock();
    List<InProcSite> waiting;
    try (Target.Stopped stopped = target.stop()) {
      if (target.isLaunched()) settleAfterExec();
      Map<InProcSite, Long> trampolines = placeAndWrite(refused);
      waiting = patchQuiet(trampolines);
      for (int round = 0; round < PATCH_ROUNDS && !waiting.isEmpty(); round++) {
        target.resume();
        LockSupport.parkNanos(1_000_000);
        target.stop();
        waiting = patchQuiet(trampolines, waiting);
      }
    }
    for (InProcSite s : waiting) refused.put(s.site(), "a thread kept running inside its first 5 bytes");
    keepProducersWaiting();
    return refused;
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

  /**
   * The sites of {@code plan} this backend would refuse in {@code target} (attached), and
   * why: what {@link #install} would report, found without writing anything.
   */
  public static Map<ProbeSite, String> wouldRefuse(Target target, ProbePlan plan) {
    InProcBackend dry = new InProcBackend(target, () -> true);
    dry.captures.putAll(capturesOf(plan));
    Map<ProbeSite, String> refused = new LinkedHashMap<>();
    dry.analyse(plan, refused);
    return refused;
  }

  private void analyse(ProbePlan plan, Map<ProbeSite, String> refused) {
    Map<Long, byte[]> codeOf = new HashMap<>();
    for (ProbeSite site : plan.sites()) {
      TracedFunction fn = site.function();
      try {
        if (fn.size() <= 0 || fn.size() > (1 << 24)) throw new InProcSite.Refusal("its size is unknown");
        byte[] code = codeOf.computeIfAbsent(fn.entry(), e -> target.read(e, (int) fn.size()));
        byte[] after = code.length >= InProcSite.PATCH_BYTES ? new byte[0]
            : target.read(fn.entry() + code.length, InProcSite.PATCH_BYTES - code.length);
        sites.add(InProcSite.of(site, sites.size(), code, after, plan,
            captures.getOrDefault(site, InProcCaptures.NONE), decoder));
      } catch (InProcSite.Refusal | QpatchException e) {
        refused.put(site, e.getMessage());
      }
    }
  }

  /** Maps the area near the probes and writes every trampoline; returns where each is. */
  private Map<InProcSite, Long> placeAndWrite(Map<ProbeSite, String> refused) {
    long bound = 0;
    long low = Long.MAX_VALUE;
    long high = 0;
    for (InProcSite s : sites) {
      bound += align16(s.maxSize(decoder, shape));
      low = Math.min(low, s.at());
      high = Math.max(high, s.at());
    }
    area = InProcArea.create(target, low + (high - low) / 2, bound, ringCapacity, shape);
    ring = area.ring(ringCapacity, shape);
    keepProducersWaiting(); // from the first record on, until run() takes over
    InProcCode.Ring where = InProcCode.Ring.at(area.armedAt, area.ringStart, ringCapacity, shape, target.pid());
    X86Writer out = new X86Writer(area.codeStart);
    Map<InProcSite, Long> placed = new LinkedHashMap<>();
    for (InProcSite s : sites) {
      long pc = out.pc();
      try {
        if (!X86Writer.canReachRel32(s.at(), pc)) throw new RefusedException("its trampoline is out of jmp reach");
        X86Writer one = new X86Writer(pc);
        s.emit(one, where, decoder);
        out.putBytes(one.bytes());
        out.putNop(align16(one.offset()) - one.offset());
        placed.put(s, pc);
      } catch (QpatchException | IllegalArgumentException e) {
        refused.put(s.site(), e.getMessage());
      }
    }
    target.write(area.codeStart, out.bytes());
    return placed;
  }

  private List<InProcSite> patchQuiet(Map<InProcSite, Long> trampolines) {
    return patchQuiet(trampolines, new ArrayList<>(trampolines.keySet()));
  }

  /**
   * Writes the jmp of every site in {@code todo} that no thread is inside (the target is
   * stopped); returns the others.
   */
  private List<InProcSite> patchQuiet(Map<InProcSite, Long> trampolines, List<InProcSite> todo) {
    List<Long> pcs = pcs();
    List<InProcSite> busy = new ArrayList<>();
    for (InProcSite s : todo) {
      if (pcs.stream().anyMatch(pc -> pc > s.at() && pc < s.at() + InProcSite.PATCH_BYTES)) {
        busy.add(s);
        continue;
      }
      byte[] jmp = InProcCode.jumpTo(s.at(), trampolines.get(s));
      target.write(s.at(), jmp);
      patched.put(s, jmp);
    }
    return busy;
  }

  private List<Long> pcs() {
    List<Long> out = new ArrayList<>();
    for (ThreadInfo t : target.threads()) out.add(t.pc());
    return out;
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
      if (now >= nextAliveCheck) {
        if (!alive.getAsBoolean()) break;
        nextAliveCheck = now + 10_000_000;
      }
      LockSupport.parkNanos(park);
      park = Math.min(park * 2, MAX_PARK_NANOS);
    }
    poll();
  }

  /** Delivers every published record; returns how many there were. */
  private int poll() {
    if (ring == null) return 0;
    int total = 0;
    int n;
    do {
      keepProducersWaiting();
      batch.clear();
      n = ring.drain(batch, BATCH);
      for (InProcRing.Record r : batch) deliver(r);
      total += n;
    } while (n == BATCH);
    lost = ring.lost();
    clock.refine();
    return total;
  }

  /** The process is gone: every record it finished, past any a killed thread left unfinished. */
  private void drainAfterExit() {
    batch.clear();
    ring.drainAfterExit(batch);
    for (InProcRing.Record r : batch) deliver(r);
  }

  /** Renews the deadline full-ring producers wait until (never in lossy mode). */
  private void keepProducersWaiting() {
    if (!lossy) ring.waitUntil(TimeStampCounter.read() + clock.ticks(WAIT_NANOS));
  }

  private void deliver(InProcRing.Record r) {
    if (r.site() < 0 || r.site() >= sites.size()) return; // not a record we could have written
    if (threads.isForeign(r.tid())) return; // a vfork child running in the target's memory
    InProcSite s = sites.get(r.site());
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
  public void remove() {
    if (removed) return;
    removed = true;
    if (area == null) return;
    try {
      if (alive.getAsBoolean()) unpatch();
    } catch (QpatchException e) {
      // the process exited while we restored it: nothing is left to restore
    } finally {
      poll();
      if (!alive.getAsBoolean()) drainAfterExit();
      ring.waitUntil(0); // a thread still in a trampoline must not wait for a reader that is leaving
      area.closeLocal();
      ring = null;
    }
  }

  /** Restores every entry, lets in-flight records land, then frees the area if it can. */
  @SuppressWarnings("try") // the stop is held for the body and released by close()
  private void unpatch() {
    try (Target t = Target.attach(target.pid())) {
      try (Target.Stopped stopped = t.stop()) {
        for (Map.Entry<InProcSite, byte[]> e : patched.entrySet()) {
          long at = e.getKey().at();
          if (Arrays.equals(t.read(at, e.getValue().length), e.getValue())) t.write(at, e.getKey().original());
        }
      }
      long until = System.nanoTime() + GRACE_NANOS;
      while (System.nanoTime() < until) {
        if (poll() == 0) LockSupport.parkNanos(MIN_PARK_NANOS * 10);
      }
      try (Target.Stopped stopped = t.stop()) {
        List<Long> pcs = new ArrayList<>();
        for (ThreadInfo ti : t.threads()) pcs.add(ti.pc());
        poll();
        area.releaseInTarget(t, pcs);
      }
    }
  }

  @Override
  public BackendStats stats() {
    return new BackendStats(hits, lost, 0);
  }

  private static long align16(long n) {
    return (n + 15) & ~15L;
  }

  private static int align16(int n) {
    return (n + 15) & ~15;
  }
}
