package io.qpatch.trace;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.ProgramHeader;
import io.qpatch.error.ProcessExitedException;
import io.qpatch.error.RefusedException;
import io.qpatch.proc.Target;
import io.qpatch.proc.ThreadInfo;
import io.qpatch.symbols.Module;
import io.qpatch.symbols.ProcessSymbols;
import java.util.concurrent.locks.LockSupport;

/**
 * Brings a launched dynamically linked program from its exec stop to its entry point, held
 * there: by then the dynamic loader has mapped and relocated its libraries (and run their
 * constructors), and not one instruction of the program's own start code, so not main,
 * has run. Probes planned then can name library functions.
 *
 * <p>How: a {@code jmp .} (eb fe) replaces the entry's first two bytes, the program runs,
 * and is stopped every 200 us until its thread spins there; the bytes go back with it
 * stopped. No breakpoint: nothing to answer, and no signal in the program's way.
 */
final class EntryHold {
  private static final byte[] SPIN = {(byte) 0xeb, (byte) 0xfe};
  private static final long PARK_NANOS = 200_000;
  private static final long TIMEOUT_NANOS = 10_000_000_000L;

  private EntryHold() {}

  /** {@code target} is held at its exec stop; returns with it held at its entry point. */
  static void runToEntry(Target target) {
    long entry = entry(target.pid());
    if (entry == 0) return; // statically linked: nothing is loaded before the entry
    byte[] original = target.read(entry, SPIN.length);
    target.write(entry, SPIN);
    long deadline = System.nanoTime() + TIMEOUT_NANOS;
    while (true) {
      target.resume();
      LockSupport.parkNanos(PARK_NANOS);
      target.stop();
      if (!target.isAlive()) throw new ProcessExitedException(target.pid(), -1);
      if (spinning(target, entry)) break;
      if (System.nanoTime() > deadline) {
        target.write(entry, original);
        throw new RefusedException("pid " + target.pid() + " did not reach its entry point within 10 s"
            + " (its libraries are not loaded yet): trace it without a filter, or attach to it");
      }
    }
    target.write(entry, original);
  }

  private static boolean spinning(Target target, long entry) {
    for (ThreadInfo t : target.threads()) if (t.pc() == entry) return true;
    return false;
  }

  /** The run-time entry point of a dynamically linked executable (PT_INTERP), else 0. */
  private static long entry(int pid) {
    try (ProcessSymbols symbols = ProcessSymbols.of(pid)) {
      Module main = symbols.mainProgram().orElse(null);
      if (main == null) return 0;
      ElfFile elf = main.elf();
      boolean dynamic = elf.programHeaders().stream().anyMatch(p -> p.type() == ProgramHeader.PT_INTERP);
      return dynamic ? elf.header().entry() + main.loadBias() : 0;
    }
  }
}
