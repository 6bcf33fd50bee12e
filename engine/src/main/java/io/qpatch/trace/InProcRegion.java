package io.qpatch.trace;

import io.qpatch.arch.x86_64.Decoder;
import io.qpatch.arch.x86_64.X86Writer;
import io.qpatch.error.QpatchException;
import io.qpatch.error.RefusedException;
import io.qpatch.proc.Target;
import io.qpatch.proc.ThreadInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * The in-process probes of functions that lie within {@link #REACH} of each other (one
 * executable, or the libraries mapped together), their trampolines and their ring: one
 * {@link InProcArea}. A trace of functions far apart (the executable and libc) has one
 * region for each cluster; a library loaded later gets a region of its own.
 */
final class InProcRegion {
  /**
   * The trampolines sit in one area, a 5-byte jmp (rel32, +-2 GiB) from every probe: half
   * of that on either side of the area leaves room for the area itself.
   */
  static final long REACH = 1L << 30;
  private static final int PATCH_ROUNDS = 50;

  private final List<InProcSite> sites;
  private final Map<InProcSite, byte[]> patched = new LinkedHashMap<>();
  private final InProcArea area;
  private final InProcRing ring;

  private InProcRegion(List<InProcSite> sites, InProcArea area, InProcRing ring) {
    this.sites = sites;
    this.area = area;
    this.ring = ring;
  }

  /** {@code sites} in clusters whose addresses span at most {@link #REACH} each, in address order. */
  static List<List<InProcSite>> clusters(List<InProcSite> sites) {
    List<InProcSite> sorted = new ArrayList<>(sites);
    sorted.sort((a, b) -> Long.compareUnsigned(a.at(), b.at()));
    List<List<InProcSite>> out = new ArrayList<>();
    List<InProcSite> current = null;
    for (InProcSite s : sorted) {
      if (current == null || s.at() - current.getFirst().at() > REACH) {
        current = new ArrayList<>();
        out.add(current);
      }
      current.add(s);
    }
    return out;
  }

  /**
   * Maps the area near {@code sites}, writes their trampolines and, as no thread is inside
   * the bytes each replaces, their jmps (letting the target run a moment, up to {@link
   * #PATCH_ROUNDS} times, for one that is). {@code target} is attached and stopped; it is
   * stopped again on return. The refused go to {@code refused}.
   *
   * @param beforeFirstRecord runs once the ring exists, before any jmp is written (the
   *     reader's first deadline)
   * @param waitsForReader each probed call waits until its record has been read ({@link InProcCode.Ring})
   */
  static InProcRegion plant(Target target, List<InProcSite> sites, long capacity, InProcRing.Shape shape,
      Decoder decoder, Map<ProbeSite, String> refused, java.util.function.Consumer<InProcRing> beforeFirstRecord,
      boolean waitsForReader) {
    long bound = 0;
    long low = Long.MAX_VALUE;
    long high = 0;
    for (InProcSite s : sites) {
      bound += align16(s.maxSize(decoder, shape));
      low = Math.min(low, s.at());
      high = Math.max(high, s.at());
    }
    InProcArea area = InProcArea.create(target, low, high, bound, capacity, shape);
    InProcRegion region = new InProcRegion(sites, area, area.ring(capacity, shape));
    beforeFirstRecord.accept(region.ring);
    Map<InProcSite, Long> trampolines = region.write(target, capacity, shape, decoder, refused, waitsForReader);
    List<InProcSite> waiting = region.patchQuiet(target, trampolines, new ArrayList<>(trampolines.keySet()));
    for (int round = 0; round < PATCH_ROUNDS && !waiting.isEmpty(); round++) {
      target.resume();
      LockSupport.parkNanos(1_000_000);
      target.stop();
      waiting = region.patchQuiet(target, trampolines, waiting);
    }
    for (InProcSite s : waiting) refused.put(s.site(), "a thread kept running inside its first 5 bytes");
    return region;
  }

  InProcRing ring() {
    return ring;
  }

  /** Writes every trampoline; returns where each is. */
  private Map<InProcSite, Long> write(Target target, long capacity, InProcRing.Shape shape, Decoder decoder,
      Map<ProbeSite, String> refused, boolean waitsForReader) {
    InProcCode.Ring ring = InProcCode.Ring.at(area.armedAt, area.ringStart, capacity, shape, target.pid())
        .withPermanent(InProcCaptures.Span.image(target.pid()));
    InProcCode.Ring where = waitsForReader ? ring.waitingForReader() : ring;
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

  /** Writes the jmp of every site in {@code todo} that no thread is inside; returns the others. */
  private List<InProcSite> patchQuiet(Target target, Map<InProcSite, Long> trampolines, List<InProcSite> todo) {
    List<Long> pcs = pcs(target);
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

  /** Puts back each entry still holding our jmp; {@code target} is stopped. */
  void restore(Target target) {
    for (Map.Entry<InProcSite, byte[]> e : patched.entrySet()) {
      long at = e.getKey().at();
      if (Arrays.equals(target.read(at, e.getValue().length), e.getValue())) target.write(at, e.getKey().original());
    }
  }

  /**
   * Unmaps the area in the target unless one of {@code threadPcs} is in its trampolines;
   * the target is stopped.
   */
  void release(Target target, List<Long> threadPcs) {
    area.releaseInTarget(target, threadPcs);
  }

  /** Drops our JVM's view of the ring. */
  void closeLocal() {
    area.closeLocal();
  }

  static List<Long> pcs(Target target) {
    List<Long> out = new ArrayList<>();
    for (ThreadInfo t : target.threads()) out.add(t.pc());
    return out;
  }

  private static long align16(long n) {
    return (n + 15) & ~15L;
  }

  private static int align16(int n) {
    return (n + 15) & ~15;
  }
}
