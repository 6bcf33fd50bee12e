package io.qpatch.link;

import io.qpatch.elf.ElfFile;
import io.qpatch.error.BadInputException;
import io.qpatch.error.RefusedException;
import io.qpatch.proc.Mapping;
import io.qpatch.proc.Target;
import io.qpatch.symbols.ProcessSymbols;
import java.util.List;

/**
 * Lays a relocatable object ({@code gcc -c}, {@code g++ -c}) into a target process: the
 * run-time linker for patches.
 *
 * <p>{@link #plan} links without a process (dry run: every input error, relocated bytes to
 * check). {@link #load} links against the live process, picks a free place within +-2 GiB
 * of {@code near}, and only after everything has been resolved and relocated creates the
 * memory and writes it; an input error leaves the target untouched. Static constructors
 * are not run here: {@link LoadedObject#initArray()} lists them for the caller, who can call
 * code in the target.
 */
public final class ObjectLoader {
  private static final int MAX_TRIES = 8;

  private ObjectLoader() {}

  /** Links {@code object} to run at page-aligned {@code base}, resolving against {@code source}. */
  public static LinkPlan plan(ElfFile object, SymbolSource source, LinkOptions options, long base) {
    return Linker.prepare(object, source, options).at(base);
  }

  /** The bytes {@code object} would occupy (a whole number of pages). */
  public static long size(ElfFile object, SymbolSource source, LinkOptions options) {
    return Linker.prepare(object, source, options).size();
  }

  /** Loads against every module of the target, see the method below. */
  public static LoadedObject load(Target target, ElfFile object, LinkOptions options, long near) {
    try (ProcessSymbols symbols = ProcessSymbols.of(target.pid())) {
      return load(target, object, new ProcessSymbolSource(symbols, target), options, near);
    }
  }

  /**
   * Loads {@code object} into {@code target}, which must be stopped, within +-2 GiB of
   * {@code near} (the code that will jump to it).
   */
  public static LoadedObject load(Target target, ElfFile object, SymbolSource source,
      LinkOptions options, long near) {
    if (!target.isStopped()) throw new IllegalStateException("stop the target before loading");
    Linker linker = Linker.prepare(object, source, options);
    List<Mapping> maps = target.maps();
    requireNameFree(maps, options, target.pid());
    List<Long> candidates = Placement.candidates(maps, near, linker.size());
    for (long base : candidates.subList(0, Math.min(MAX_TRIES, candidates.size()))) {
      LinkPlan plan = linker.at(base);
      if (!SharedMemory.map(target, plan)) continue;
      try {
        SharedMemory.fill(target, plan);
      } catch (RuntimeException e) {
        SharedMemory.unmap(target, plan.segments());
        throw e;
      }
      return new LoadedObject(target.pid(), plan);
    }
    throw new RefusedException(String.format("process %d: no free range of %d bytes within"
        + " +-2 GiB of 0x%x to load %s", target.pid(), linker.size(), near, object.name()));
  }

  /** Refuses a second object of the same name: its memfd would be taken for the first's. */
  public static void requireNameFree(List<Mapping> maps, LinkOptions options, int pid) {
    for (Mapping m : maps) {
      if (m.memfdName().equals(options.memfdName())) {
        throw new BadInputException("process " + pid + " already has an object named '"
            + options.name() + "' loaded (" + m.path() + " at 0x" + Long.toHexString(m.start())
            + "); unload it or choose another name");
      }
    }
  }
}
