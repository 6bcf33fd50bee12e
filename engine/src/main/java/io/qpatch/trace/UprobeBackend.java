package io.qpatch.trace;

import io.qpatch.error.BadInputException;
import io.qpatch.error.RefusedException;
import io.qpatch.error.SyscallException;
import io.qpatch.sys.Errno;
import io.qpatch.sys.PerfEvent;
import io.qpatch.trace.go.GEntry;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Probes as kernel uprobe events ({@link UprobeEvents}: defined in tracefs, opened with
 * perf_event_open as tracepoints): the kernel plants the int3, takes the trap, reads the
 * event's fetch arguments (the goroutine id at [R14 + goid offset], while the thread is
 * still at the call), samples them with the registers into a per-CPU ring buffer and lets
 * the thread go on. No tracer wake-up per call; this class reads the rings every
 * millisecond on its own thread.
 *
 * <p>One event per probe and CPU, for every process (pid -1): per-task events would miss
 * threads created later, and inherit=1 has crashed Go programs here. Samples of other
 * processes running the same file are dropped by pid. All events of a CPU write into the
 * ring of its first one (PERF_EVENT_IOC_SET_OUTPUT). Lost samples (PERF_RECORD_LOST) are
 * counted and reported. Each poll merges the CPUs' samples by time, so that a call and
 * its return on different CPUs pair up.
 *
 * <p>The kernel emulates rather than single-steps a jcc (arch/x86/kernel/uprobes.c,
 * branch_setup_xol_ops), which is why Go functions are probed at their stack check's
 * branch; other instructions it single-steps out of line itself.
 */
public final class UprobeBackend implements Backend {
  private static final Path ONLINE_CPUS = Path.of("/sys/devices/system/cpu/online");
  /** 2 MiB of ring per CPU: a Go program's start-up burst fits between two polls. */
  private static final long RING_PAGES = 512;
  private static final long PERF_FLAG_FD_CLOEXEC = 8;
  private static final int CLOSERS = 16;
  /**
   * Idle wait between polls of the rings. Short, because Go goids are read from the
   * target's memory when a sample is processed, and the sooner the likelier the
   * goroutine is still there to read.
   */
  private static final long POLL_NANOS = 250_000;
  /** EMFILE (asm-generic/errno-base.h): the process's open-file limit is reached. */
  private static final int EMFILE = 24;

  private final int pid;
  private final BooleanSupplier alive;
  private final List<Integer> fds = new ArrayList<>();
  private final Map<Integer, PerfRing> rings = new LinkedHashMap<>();
  private final Map<Long, ProbeSite> byAddress = new HashMap<>();
  /** Where each site's event has the goid in its raw record; absent: no goid fetched. */
  private final Map<ProbeSite, Integer> goidAt = new HashMap<>();
  /** Each site's captures for decoding, and where their bytes are in its raw record. */
  private record Captures(List<Capture> wanted, int[] at) {}

  private final Map<ProbeSite, Captures> captures = new HashMap<>();
  private final List<String> notes = new ArrayList<>();
  private UprobeEvents events;
  private final List<PerfRing.Sample> batch = new ArrayList<>();
  private HitConsumer consumer;
  private volatile boolean stopRequested;
  private boolean removed;
  private long hits;
  private long lost;
  private long skippedTaken;

  /**
   * @param pid the traced process: samples of others are dropped
   * @param alive false once the process has exited
   */
  public UprobeBackend(int pid, BooleanSupplier alive) {
    this.pid = pid;
    this.alive = alive;
  }

  /** Why uprobes cannot be used here, or null (permission is tried at install). */
  public static String unavailableReason() {
    return UprobeEvents.unavailableReason();
  }

  @Override
  public String name() {
    return "uprobe";
  }

  @Override
  public Map<ProbeSite, String> install(ProbePlan plan, HitConsumer consumer) {
    this.consumer = consumer;
    String why = cannotHonour(plan);
    if (why != null) throw new RefusedException(why);
    UprobeEvents.removeAbandoned();
    events = new UprobeEvents();
    Map<ProbeSite, String> refused;
    try {
      refused = plant(plan);
    } catch (RuntimeException e) {
      closeAll();
      throw e;
    }
    return refused;
  }

  /** Defines, opens and enables the events of {@code plan}'s sites; returns the sites refused. */
  private Map<ProbeSite, String> plant(ProbePlan plan) {
    List<Integer> cpus = onlineCpus();
    Map<ProbeSite, String> refused = new LinkedHashMap<>();
    int tlsOnly = 0;
    int firstFd = fds.size();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment attr = arena.allocate(PerfEvent.ATTR);
      for (ProbeSite site : plan.sites()) {
        if (site.fileOffset() < 0) {
          refused.put(site, "not in a loadable segment of the file");
          continue;
        }
        List<String> args = new ArrayList<>(fetchArgs(site.function(), plan));
        boolean fetchesGoid = !args.isEmpty();
        List<Capture> wanted = plan.argDecoder() == null ? List.of()
            : plan.argDecoder().captures(site.function(), site.kind());
        for (int i = 0; i < wanted.size(); i++) args.add(wanted.get(i).fetchArg("c" + i));
        if (site.function().isGo() && site.function().g() != GEntry.REGISTER) tlsOnly++;
        UprobeEvents.Event event = events.define("p" + byAddress.size(), site.function().fileOr(plan.executable()),
            site.fileOffset(), args);
        if (fetchesGoid) goidAt.put(site, event.offsets().get(GOID));
        if (!wanted.isEmpty()) {
          int[] at = new int[wanted.size()];
          for (int i = 0; i < at.length; i++) at[i] = event.offsets().getOrDefault("c" + i, -1);
          captures.put(site, new Captures(wanted, at));
        }
        fill(attr, event.id());
        for (int cpu : cpus) open(attr, cpu);
        byAddress.put(site.address(), site);
      }
      for (int fd : fds.subList(firstFd, fds.size())) PerfEvent.ioctl(fd, PerfEvent.IOC_ENABLE, 0);
    }
    if (tlsOnly > 0) {
      notes.add(tlsOnly + " probes are in Go assembly (ABI0) code, whose goroutine only thread-local"
          + " storage tells, which uprobes cannot read: they show goid[------]; the ptrace and"
          + " inproc backends show it");
    }
    return refused;
  }

  /**
   * Why this backend cannot give what {@code plan} asks, or null: a decoded value in a
   * floating-point register (a perf sample has the general registers only, and fetch
   * arguments name only those: arch/x86/kernel/ptrace.c, regoffset_table).
   */
  public static String cannotHonour(ProbePlan plan) {
    String user = plan.argDecoder() == null ? null : plan.argDecoder().floatUser(plan.sites());
    return user == null ? null : "uprobes cannot read floating-point registers (" + user + "): use the ptrace backend";
  }

  /** The name of the fetch argument that reads the goroutine id. */
  private static final String GOID = "goid";

  /**
   * The goroutine id of ABIInternal Go code, read by the kernel at the hit: R14 is g there
   * (abi-internal.md), goid at its offset in runtime.g. Nothing for other code: R14 may be
   * anything in ABI0 code, and uprobes cannot read the fs base that TLS is relative to.
   */
  private static List<String> fetchArgs(TracedFunction fn, ProbePlan plan) {
    if (!fn.isGo() || fn.g() != GEntry.REGISTER || plan.goidOffset() < 0) return List.of();
    return List.of(GOID + "=+" + plan.goidOffset() + "(%r14):s64");
  }

  private static void fill(MemorySegment attr, int eventId) {
    attr.fill((byte) 0);
    PerfEvent.TYPE.set(attr, 0L, PerfEvent.TYPE_TRACEPOINT);
    PerfEvent.SIZE.set(attr, 0L, (int) PerfEvent.ATTR.byteSize());
    PerfEvent.CONFIG.set(attr, 0L, (long) eventId);
    PerfEvent.SAMPLE_PERIOD.set(attr, 0L, 1L);
    PerfEvent.SAMPLE_TYPE.set(attr, 0L,
        PerfEvent.SAMPLE_TID | PerfEvent.SAMPLE_TIME | PerfEvent.SAMPLE_RAW | PerfEvent.SAMPLE_REGS_USER);
    PerfEvent.FLAGS.set(attr, 0L, PerfEvent.FLAG_DISABLED | PerfEvent.FLAG_USE_CLOCKID);
    PerfEvent.CLOCKID.set(attr, 0L, PerfEvent.CLOCK_MONOTONIC);
    PerfEvent.REGS_USER_MASK.set(attr, 0L, SampleRegs.PERF_MASK);
  }

  @Override
  public List<String> notes() {
    return List.copyOf(notes);
  }

  /** Opens the event on {@code cpu}; the CPU's first one gets the ring, the rest write to it. */
  private void open(MemorySegment attr, int cpu) {
    int fd;
    try {
      fd = PerfEvent.open(attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
    } catch (SyscallException e) {
      throw explain(e);
    }
    fds.add(fd);
    PerfRing ring = rings.get(cpu);
    if (ring == null) {
      rings.put(cpu, new PerfRing(PerfEvent.mapRing(fd, (RING_PAGES + 1) * PerfRing.PAGE)));
      leaders.put(cpu, fd);
    } else {
      PerfEvent.ioctl(fd, PerfEvent.IOC_SET_OUTPUT, leaders.get(cpu));
    }
  }

  private final Map<Integer, Integer> leaders = new HashMap<>();

  private RuntimeException explain(SyscallException e) {
    if (PerfEvent.isPermission(e)) {
      return new RefusedException("uprobes are not permitted for this user (perf_event_open: "
          + Errno.format(e.errno()) + "): run as root or with CAP_PERFMON, or lower"
          + " kernel.perf_event_paranoid");
    }
    if (e.errno() == EMFILE) {
      return new BadInputException("too many probes for the open-file limit (" + fds.size()
          + " perf events open): narrow the trace with a filter, or raise 'ulimit -n'");
    }
    return e;
  }

  @Override
  public void run() {
    try {
      while (!stopRequested && alive.getAsBoolean()) {
        plantLater();
        if (poll() == 0) LockSupport.parkNanos(POLL_NANOS);
      }
      poll();
    } finally {
      later.close();
    }
  }

  /** Plans queued by {@link #addWhileRunning}, planted by {@link #run}'s thread (it owns the tables). */
  private final LaterPlans later = new LaterPlans();

  /** Planted by {@link #run}'s thread at its next poll; returns once they are (false: the trace ended first). */
  @Override
  public boolean addWhileRunning(ProbePlan more) {
    return later.addAndWait(more, () -> {});
  }

  private void plantLater() {
    later.plantEach(p -> {
      try {
        plant(p);
      } catch (RuntimeException e) { // a library we cannot probe: the rest of the trace goes on
        notes.add("cannot probe " + p.executable() + ": " + e.getMessage());
      }
    });
  }

  /** Reads every ring, merges by time, delivers; returns the number of samples. */
  private int poll() {
    batch.clear();
    for (PerfRing ring : rings.values()) lost += ring.drain(batch, SampleRegs.PERF_MASK, true);
    batch.sort(Comparator.comparingLong(PerfRing.Sample::time));
    for (PerfRing.Sample s : batch) deliver(s);
    return batch.size();
  }

  private void deliver(PerfRing.Sample s) {
    if (s.pid() != pid) return;
    ProbeSite site = byAddress.get(s.regs()[SampleRegs.IP]);
    if (site == null) return;
    if (!site.counts(s.regs()[SampleRegs.FLAGS])) {
      skippedTaken++;
      return;
    }
    hits++;
    Integer at = goidAt.get(site);
    long goid = at == null || at + 8 > s.raw().length ? TraceEvent.NO_GOID : s.rawLong(at);
    consumer.hit(site, s.tid(), s.time(), s.regs(), goid, captured(site, s));
  }

  /** The memory the kernel read at this hit for the decoder (nothing: no live reads either). */
  private TargetMemory captured(ProbeSite site, PerfRing.Sample s) {
    Captures c = captures.get(site);
    if (c == null) return NOTHING_CAPTURED;
    List<Capture> wanted = c.wanted();
    int[] at = c.at();
    List<byte[]> bytes = new ArrayList<>();
    for (int i = 0; i < wanted.size(); i++) {
      Capture w = wanted.get(i);
      bytes.add(w.cString() ? dynamic(s.raw(), at[i], w) : fixed(s.raw(), at[i], w.length()));
    }
    return new CapturedMemory(wanted, bytes, s.regs());
  }

  private static byte[] fixed(byte[] raw, int from, int length) {
    return from < 0 || from + length > raw.length ? null : java.util.Arrays.copyOfRange(raw, from, from + length);
  }

  /**
   * A {@code string} fetch argument: a __data_loc word, length in its high 16 bits and
   * offset in the low ones (kernel/trace/trace_probe.h, make_data_loc); length 0 when the
   * address could not be read (kernel/trace/trace_uprobe.c, fetch_store_string).
   */
  private static byte[] dynamic(byte[] raw, int field, Capture c) {
    if (field < 0 || field + 4 > raw.length) return null;
    int loc = java.nio.ByteBuffer.wrap(raw).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(field);
    int offset = loc & 0xffff;
    int length = Math.min(loc >>> 16, c.length());
    if (length == 0 || offset + length > raw.length) return null;
    return c.padded(java.util.Arrays.copyOfRange(raw, offset, offset + length));
  }

  private static final TargetMemory NOTHING_CAPTURED = new CapturedMemory(List.of(), List.of(), new long[0]);

  @Override
  public void requestStop() {
    stopRequested = true;
  }

  @Override
  public void remove() {
    if (removed) return;
    removed = true;
    for (int fd : fds) PerfEvent.ioctl(fd, PerfEvent.IOC_DISABLE, 0);
    poll();
    closeAll();
  }

  /**
   * Closes every event. Each close unregisters a uprobe, and the kernel waits for an RCU
   * grace period per uprobe (measured here: ~85-170 ms each, serialized under the trace
   * event mutex), so closing runs on many threads at once, which roughly halves it.
   */
  private void closeAll() {
    int threads = Math.min(CLOSERS, fds.size());
    List<Thread> closers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int first = t;
      closers.add(Thread.ofPlatform().daemon().start(() -> {
        for (int i = first; i < fds.size(); i += threads) PerfEvent.close(fds.get(i));
      }));
    }
    for (Thread t : closers) joinQuietly(t);
    fds.clear();
    for (PerfRing r : rings.values()) PerfEvent.unmap(r.mapping());
    rings.clear();
    if (events != null) events.close();
  }

  private static void joinQuietly(Thread t) {
    try {
      t.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Perf events the kernel registers one uprobe for: the probes times the CPUs. */
  public static int eventsFor(ProbePlan plan) {
    return plan.sites().size() * onlineCpus().size();
  }

  @Override
  public BackendStats stats() {
    return new BackendStats(hits, lost, skippedTaken);
  }

  /** CPUs from /sys/devices/system/cpu/online ("0-3,6"). */
  static List<Integer> onlineCpus() {
    List<Integer> out = new ArrayList<>();
    try {
      for (String part : Files.readString(ONLINE_CPUS).trim().split(",")) {
        String[] r = part.split("-");
        int from = Integer.parseInt(r[0]);
        int to = r.length > 1 ? Integer.parseInt(r[1]) : from;
        for (int c = from; c <= to; c++) out.add(c);
      }
    } catch (IOException | NumberFormatException e) {
      for (int c = 0; c < Runtime.getRuntime().availableProcessors(); c++) out.add(c);
    }
    return out;
  }
}
