package io.qpatch.patch;

import io.qpatch.elf.ElfFile;
import io.qpatch.link.LinkOptions;
import io.qpatch.link.LoadedObject;
import io.qpatch.link.ObjectLoader;
import io.qpatch.link.SymbolSource;
import io.qpatch.proc.Mapping;
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
 * own: the same stops, remote system calls, memory mappings, writes, a remote call and an
 * object load, before the real target is attached.
 *
 * <p>Why: every command runs in a new JVM, and there the first run of any code path is
 * slow (classes loaded and linked, native calls bound, all interpreted): tens of
 * milliseconds for the first stop with a few remote system calls. Done on the real
 * target, all of that would happen while its threads are held. Rehearsed first, it costs
 * a fraction of a second of qpatch's own time instead (bench/patch-bench shows both).
 *
 * <p>Best effort: a rehearsal that fails only makes the real stops slower; the scratch
 * process is always killed and reaped.
 */
public final class Rehearsal {
  private static final String PROBE = "/io/qpatch/native/qpatch_probe.o";

  private Rehearsal() {}

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
      try (Target.Stopped _ = scratch.stop()) {
        rehearse(scratch);
      }
      return (System.nanoTime() - start) / 1_000_000;
    } catch (RuntimeException e) {
      return -1; // best effort, see the class comment: the real command reports real failures
    } finally {
      end(scratch);
    }
  }

  private static void rehearse(Target t) {
    new Quiescence(t).pcIn(List.of(new Quiescence.Range(1, 2, "nothing")));
    long rsp = t.registers(t.pid()).rsp();
    t.write(rsp - 8, t.read(rsp - 8, 8));
    int fd = t.memfdCreate("qpatch-rehearsal", TargetMemory.MFD_CLOEXEC);
    t.ftruncate(fd, 2 * TargetMemory.PAGE);
    long data = t.mmap(0, TargetMemory.PAGE, TargetMemory.PROT_READ | TargetMemory.PROT_WRITE,
        TargetMemory.MAP_SHARED, fd, 0);
    long code = t.mmap(0, TargetMemory.PAGE, TargetMemory.PROT_READ | TargetMemory.PROT_EXEC,
        TargetMemory.MAP_PRIVATE, fd, TargetMemory.PAGE);
    t.close(fd);
    t.write(data, RecordCodec.MAGIC);
    t.write(code, StubCode.stub(data, code, code));
    List<Mapping> maps = t.maps();
    new Quiescence(t).referencing(List.of(new Quiescence.Range(code, code + 1, "nothing")), maps);
    t.write(code, new byte[] {(byte) 0xc3});  // ret: a function to call
    t.callFunction(code);
    loadProbe(t, code);
    t.munmap(data, TargetMemory.PAGE);
    t.munmap(code, TargetMemory.PAGE);
  }

  /** The native helper's probe object, loaded and unloaded: the linker's paths. */
  private static void loadProbe(Target t, long near) {
    byte[] probe = probeBytes();
    if (probe.length == 0) return;
    ElfFile elf = ElfFile.of("qpatch_probe.o", probe);
    LoadedObject o = ObjectLoader.load(t, elf, SymbolSource.of(Map.of(), "rehearsal"),
        LinkOptions.named("rehearsal"), near);
    o.unload(t);
  }

  private static byte[] probeBytes() {
    try (InputStream in = Rehearsal.class.getResourceAsStream(PROBE)) {
      return in == null ? new byte[0] : in.readAllBytes();
    } catch (IOException e) {
      return new byte[0];
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
