package io.qpatch.link;

import io.qpatch.elf.ElfFile;
import io.qpatch.error.BadInputException;
import io.qpatch.proc.Mapping;
import io.qpatch.proc.MemfdFile;
import io.qpatch.sys.Mman;
import java.util.ArrayList;
import java.util.List;

/**
 * Lays a relocatable object ({@code gcc -c}, {@code g++ -c}) into a target process: the
 * run-time linker qpatch has, one for everything it loads.
 *
 * <p>{@link #plan} links without a process (dry run: every input error, relocated bytes to
 * check). {@link #load} links for a place within +-2 GiB of {@code near} ({@link
 * Placement#mapNear}) while the target runs, then makes its memory: a memfd
 * "qpatch:NAME", sized and filled from our side ({@link MemfdFile}), mapped MAP_SHARED
 * segment by segment (r-x, r--, rw-: never writable and executable at once) at fixed
 * addresses; nothing in the target refers to it yet, so it may be filled while the target
 * runs. An input error leaves the target untouched; a failure after the memory was made
 * unmaps it again. What ld.so would do next (registering .eh_frame, constructors) is the
 * caller's: the patch engine does it under its record's protection.
 */
public final class ObjectLoader {
  private ObjectLoader() {}

  /** Links {@code object} to run at page-aligned {@code base}, resolving against {@code source}. */
  public static LinkPlan plan(ElfFile object, SymbolSource source, LinkOptions options, long base) {
    return Linker.prepare(object, source, options).at(base);
  }

  /** The bytes {@code object} would occupy (a whole number of pages). */
  public static long size(ElfFile object, SymbolSource source, LinkOptions options) {
    return Linker.prepare(object, source, options).size();
  }

  /** Loads {@code object} into the target of {@code memory} within +-2 GiB of {@code near}, as the class says. */
  public static LinkPlan load(ObjectMemory memory, ElfFile object, SymbolSource source,
      LinkOptions options, long near) {
    Linker linker = Linker.prepare(object, source, options);
    List<Mapping> maps = memory.maps();
    requireNameFree(maps, options, memory.pid());
    LinkPlan[] laid = new LinkPlan[1];
    Placement.mapNear(maps, near, near, linker.size(), base -> {
      LinkPlan plan = linker.at(base);
      ObjectMemory.Memfd memfd = map(memory, plan);
      if (memfd == null) return false;
      try (MemfdFile file = memfd.file()) {
        fill(memory, file, plan);
      } catch (RuntimeException e) {
        unmapQuietly(memory, plan.segments(), e);
        throw e;
      }
      laid[0] = plan;
      return true;
    }, memory.pid(), object.name());
    return laid[0];
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

  /** Unmaps every segment of a loaded object; nothing may still run in it. */
  public static void unload(ObjectMemory memory, List<Segment> segments) {
    for (Segment s : segments) memory.unmap(s.address(), s.size(), s.toString());
  }

  /**
   * The memfd, sized from our side, and every segment mapped from it; null (nothing left
   * mapped) when one of the addresses has been taken since the plan.
   */
  private static ObjectMemory.Memfd map(ObjectMemory memory, LinkPlan plan) {
    String name = plan.options().memfdName();
    ObjectMemory.Memfd memfd = memory.memfd(name, plan.size());
    List<Segment> mapped = new ArrayList<>();
    try {
      for (Segment s : plan.segments()) {
        long at = memory.map(memfd.fd(), s.fileOffset(), s.size(), s.prot(), Mman.MAP_SHARED,
            s.address(), name + " " + s.kind());
        if (at == 0) {
          unload(memory, mapped);
          memfd.file().close();
          return null;
        }
        mapped.add(s);
      }
      return memfd;
    } catch (RuntimeException e) {
      memfd.file().close();
      unmapQuietly(memory, mapped, e);
      throw e;
    } finally {
      memory.close(memfd.fd(), name);
    }
  }

  /** Every segment's bytes; pages left zero need no write (a new memfd reads as zero). */
  private static void fill(ObjectMemory memory, MemfdFile file, LinkPlan plan) {
    for (Segment s : plan.segments()) {
      byte[] bytes = plan.bytes(s);
      if (!isZero(bytes)) memory.fill(file, s.fileOffset(), bytes, plan.objectName() + " " + s.kind());
    }
  }

  private static void unmapQuietly(ObjectMemory memory, List<Segment> segments, RuntimeException cause) {
    try {
      unload(memory, segments);
    } catch (RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  private static boolean isZero(byte[] bytes) {
    for (byte b : bytes) {
      if (b != 0) return false;
    }
    return true;
  }
}
