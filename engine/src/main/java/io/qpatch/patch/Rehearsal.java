package io.qpatch.patch;

import io.qpatch.link.ObjectMemory;
import io.qpatch.sys.Mman;
import io.qpatch.proc.MemfdFile;
import io.qpatch.elf.ElfFile;
import io.qpatch.link.SymbolSource;
import io.qpatch.proc.Target;
import io.qpatch.sys.Libc;
import io.qpatch.sys.Signals;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A dress rehearsal of a patch command on a scratch process ({@code sleep}) of qpatch's
 * own: the same stops and holds, remote system calls, memfds filled from our side, writes,
 * a remote call and an object load, before the real target is attached. Its changes are
 * not counted as {@link Checkpoints} and its stops not traced.
 *
 * <p>Why: every command runs in a new JVM, and there the first run of any code path is
 * slow (classes loaded and linked, native calls bound, all interpreted): tens of
 * milliseconds for the first stop with a few remote system calls. Done on the real
 * target, all of that would happen while its threads are held. Rehearsed first, it costs
 * a fraction of a second of qpatch's own time instead (bench/patch-bench shows both). The
 * switch's stop is rehearsed {@link #SWITCH_STOPS} times, so that the JIT compiles the
 * code a stop of every thread runs.
 *
 * <p>Best effort: a rehearsal that fails only makes the real stops slower; the scratch
 * process is always killed and reaped.
 */
public final class Rehearsal {
  private static final String PROBE = "/io/qpatch/native/qpatch_probe.o";
  private static final long PAGE = Mman.PAGE;

  /**
   * Rehearsals of the switch's stop: HotSpot compiles a method with C1 after about 200
   * calls (-XX:Tier3InvocationThreshold), and the stop's methods run once or a few times
   * per stop. At most {@link #SWITCH_STOPS_NANOS} are spent on them: on a busy machine the
   * scratch process waits for a CPU at every stop.
   */
  static final int SWITCH_STOPS = 200;

  private static final long SWITCH_STOPS_NANOS = 300_000_000L;

  /**
   * Rehearsals of a one-thread hold with a remote system call in it (an mprotect that
   * changes nothing), as many and as long at most: the same count, for the JIT, as the
   * switch's stop.
   */
  static final int HOLDS = 250;

  private static final long HOLDS_NANOS = 200_000_000L;

  private Rehearsal() {}

  private static final java.util.concurrent.atomic.AtomicBoolean DONE = new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * The rehearsal, once in this JVM, before its first patch command, whoever makes it (the
   * command lines, a script through the facade, a fleet command); never with
   * QPATCH_NO_REHEARSAL=1. Returns the milliseconds it took, 0 when it ran before or is
   * turned off, -1 when it could not run.
   */
  public static long once() {
    if ("1".equals(System.getenv("QPATCH_NO_REHEARSAL")) || !DONE.compareAndSet(false, true)) return 0;
    return run();
  }

  /** Rehearses; returns how long it took, in milliseconds, or -1 when it could not run. */
  public static long run() {
    long start = System.nanoTime();
    Target scratch;
    try {
      scratch = Target.launch(List.of("sleep", "60"));
    } catch (RuntimeException e) {
      return -1;
    }
    try {
      scratch.resume();
      awaitSleeping(scratch.pid());
      Checkpoints.offTheRecord(() -> rehearse(scratch));
      return (System.nanoTime() - start) / 1_000_000;
    } catch (RuntimeException e) {
      return -1; // best effort, see the class comment: the real command reports real failures
    } finally {
      end(scratch);
    }
  }

  private static void rehearse(Target t) {
    TargetMemory memory = new TargetMemory(t);
    Quiescence quiet = new Quiescence(t);
    long rsp = t.whileHeld(t.pid(), () -> t.registers(t.pid()).rsp()).orElseThrow();
    long until = System.nanoTime() + SWITCH_STOPS_NANOS;
    for (int i = 0; i < SWITCH_STOPS && System.nanoTime() < until; i++) {
      Stops.stopped(t, "rehearsal", () -> {
        quiet.pcIn(List.of(new Quiescence.Range(1, 2, "nothing")));
        t.write(rsp - 8, t.read(rsp - 8, 8));
        return null;
      });
    }
    long[] at = Stops.held(t, "rehearsal", () -> mapScratch(memory));
    long holdsUntil = System.nanoTime() + HOLDS_NANOS;
    for (int i = 0; i < HOLDS && System.nanoTime() < holdsUntil; i++) {
      Stops.held(t, "rehearsal", () -> {
        t.mprotect(at[0], PAGE, Mman.PROT_READ | Mman.PROT_WRITE); // as it is
        return null;
      });
    }
    long data = at[0], code = at[1];
    t.write(data, RecordCodec.MAGIC);
    t.write(code, StubCode.stub(data, code, code));
    quiet.referencing(List.of(new Quiescence.Range(code, code + 1, "nothing")), t.maps());
    t.write(code, new byte[] {(byte) 0xc3});  // ret: a function to call
    Stops.held(t, "rehearsal", () -> memory.call(code, "rehearsal"));
    loadProbe(memory, code);
    unmap(memory, List.of(new Region(data, PAGE, Region.Kind.RECORD), new Region(code, PAGE, Region.Kind.STUBS)));
  }

  /** A memfd of two pages, the first mapped rw- shared, the second r-x private: {data, code}. */
  private static long[] mapScratch(TargetMemory memory) {
    ObjectMemory.Memfd memfd = memory.memfd("qpatch-rehearsal", 2 * PAGE);
    try (MemfdFile file = memfd.file()) {
      long data = memory.map(memfd.fd(), 0, PAGE, Mman.PROT_READ | Mman.PROT_WRITE,
          Mman.MAP_SHARED, 0, "rehearsal data");
      long code = memory.map(memfd.fd(), PAGE, PAGE, Mman.PROT_READ | Mman.PROT_EXEC,
          Mman.MAP_PRIVATE, 0, "rehearsal code");
      memory.fill(file, 0, new byte[8], "rehearsal data");
      return new long[] {data, code};
    } finally {
      memory.close(memfd.fd(), "rehearsal");
    }
  }

  /** The native helper's probe object, loaded and unloaded: the linker's paths. */
  private static void loadProbe(TargetMemory memory, long near) {
    byte[] probe = probeBytes();
    ElfFile elf = ElfFile.of("qpatch_probe.o", probe);
    ObjectLink.Linked linked = ObjectLink.load(memory, elf, SymbolSource.of(Map.of(), "rehearsal"),
        "rehearsal", Map.of(), near);
    unmap(memory, linked.regions());
  }

  private static void unmap(TargetMemory memory, List<Region> regions) {
    Stops.held(memory.target(), "rehearsal", () -> {
      for (Region g : regions) memory.unmap(g.start(), g.length(), "rehearsal");
      return null;
    });
  }

  /** The probe object built into the jar (native-helper/build-objects.sh); a build without it is broken. */
  static byte[] probeBytes() {
    try (InputStream in = Rehearsal.class.getResourceAsStream(PROBE)) {
      if (in == null) throw new IllegalStateException(PROBE + " is missing from this build (native-helper/build-objects.sh)");
      return in.readAllBytes();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot read " + PROBE, e);
    }
  }

  /** Until the scratch process sleeps: past the dynamic linker, in nanosleep. */
  private static void awaitSleeping(int pid) {
    Path stat = Path.of("/proc", "" + pid, "stat");
    long deadline = System.nanoTime() + 2_000_000_000L;
    while (System.nanoTime() < deadline) {
      try {
        String s = Files.readString(stat);
        if (s.charAt(s.lastIndexOf(')') + 2) == 'S') return;
      } catch (IOException e) {
        return;
      }
      Thread.onSpinWait();
    }
  }

  private static void end(Target scratch) {
    try {
      Libc.kill(scratch.pid(), Signals.SIGKILL);
      scratch.waitExit();
    } catch (RuntimeException e) {
      scratch.close();
    }
  }
}
