package io.qpatch.symbols;

import static io.qpatch.symbols.LinkMapLayouts.D_TAG;
import static io.qpatch.symbols.LinkMapLayouts.D_VAL;
import static io.qpatch.symbols.LinkMapLayouts.DT_DEBUG;
import static io.qpatch.symbols.LinkMapLayouts.DT_NULL;
import static io.qpatch.symbols.LinkMapLayouts.L_LD;
import static io.qpatch.symbols.LinkMapLayouts.L_NEXT;
import static io.qpatch.symbols.LinkMapLayouts.R_MAP;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.ProgramHeader;
import io.qpatch.error.BadInputException;
import io.qpatch.error.SyscallException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Orders modules the way the dynamic linker searches them for a global symbol: the main
 * program, then the libraries in load order. The order is read from the dynamic linker's
 * own list, as debuggers do: the main program's DT_DEBUG entry points at
 * {@code struct r_debug}, whose r_map heads the {@code link_map} chain (glibc
 * elf/rtld.c sets DT_DEBUG; the chain's order is load order, breadth-first over
 * DT_NEEDED for the initial libraries). The [vdso] is in that chain but not in the global
 * scope (a program reaches it through libc), so it goes last.
 *
 * <p>When the chain cannot be read (a static program, a process stopped before ld.so
 * ran, unreadable memory) the order is: main program, then address order.
 */
final class SearchOrder {
  private static final int MAX_DYNAMIC_ENTRIES = 4096;
  private static final int MAX_LINK_MAPS = 65536;

  private SearchOrder() {}

  static List<Module> order(List<Module> modules, Module main, MemoryReader memory) {
    Set<Module> ordered = new LinkedHashSet<>();
    if (main != null) ordered.add(main);
    for (long dynamic : linkMapDynamics(main, memory)) {
      modules.stream().filter(m -> m.contains(dynamic) && !m.isVdso()).findFirst()
          .ifPresent(ordered::add);
    }
    modules.stream().filter(m -> !m.isVdso()).forEach(ordered::add);
    ordered.addAll(modules);
    return List.copyOf(ordered);
  }

  /** l_ld of every link_map in chain order; empty when the chain cannot be read. */
  private static List<Long> linkMapDynamics(Module main, MemoryReader memory) {
    List<Long> result = new ArrayList<>();
    try {
      long rDebug = main == null ? 0 : debugPointer(main, memory);
      if (rDebug == 0) return result;
      MemorySegment r = read(memory, rDebug, LinkMapLayouts.R_DEBUG.byteSize());
      long map = (long) R_MAP.get(r, 0L);
      for (int n = 0; map != 0 && n < MAX_LINK_MAPS; n++) {
        MemorySegment entry = read(memory, map, LinkMapLayouts.LINK_MAP.byteSize());
        result.add((long) L_LD.get(entry, 0L));
        map = (long) L_NEXT.get(entry, 0L);
      }
    } catch (BadInputException | SyscallException e) {
      // Fall back to address order; lookups still work, only the tie-break between
      // modules defining the same global symbol may differ from the dynamic linker's.
    }
    return result;
  }

  /** The DT_DEBUG value in the main program's dynamic section as it is in memory. */
  private static long debugPointer(Module main, MemoryReader memory) {
    ElfFile elf = main.elf();
    Optional<ProgramHeader> dynamic = elf.programHeaders().stream()
        .filter(p -> p.type() == ProgramHeader.PT_DYNAMIC).findFirst();
    if (dynamic.isEmpty()) return 0;
    long size = LinkMapLayouts.DYN.byteSize();
    long count = Math.min(dynamic.get().memsz() / size, MAX_DYNAMIC_ENTRIES);
    MemorySegment entries = read(memory, main.loadBias() + dynamic.get().vaddr(), count * size);
    for (long i = 0; i < count; i++) {
      long tag = (long) D_TAG.get(entries, i * size);
      if (tag == DT_NULL) break;
      if (tag == DT_DEBUG) return (long) D_VAL.get(entries, i * size);
    }
    return 0;
  }

  private static MemorySegment read(MemoryReader memory, long address, long length) {
    return LinkMapLayouts.aligned(memory.read(address, Math.toIntExact(length)));
  }
}
