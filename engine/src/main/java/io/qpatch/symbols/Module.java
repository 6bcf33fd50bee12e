package io.qpatch.symbols;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.ProgramHeader;
import io.qpatch.error.BadInputException;
import io.qpatch.proc.Mapping;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * One ELF object mapped into a process: the main program, a shared library, the dynamic
 * linker or the [vdso].
 *
 * <p>How the file is opened (lazily, on first need): through
 * {@code /proc/PID/map_files/START-END} of one of its mappings. That link leads to the very
 * inode the process mapped, so it works for files deleted or replaced since (maps shows
 * " (deleted)", typical after a package upgrade), for memfd-backed code ("/memfd:NAME"), and
 * for processes in another mount namespace (a container). Opening it needs
 * CAP_SYS_ADMIN (CAP_CHECKPOINT_RESTORE since Linux 5.9); without it qpatch falls back to
 * {@code /proc/PID/root/PATH}, which fails for deleted files with a message saying so.
 * The [vdso] has no file: its image is read from the process's memory.
 */
public final class Module implements AutoCloseable {
  /** x86-64 base pages are 4 KiB; the kernel maps file segments at page granularity. */
  private static final long PAGE_MASK = 0xfff;

  private final int pid;
  private final List<Mapping> mappings;
  private final MemoryReader memory;
  private boolean mainProgram;
  private ElfFile elf;
  private BadInputException openError;
  private Long loadBias;
  private ModuleSymbols symbols;

  Module(int pid, List<Mapping> mappings, MemoryReader memory) {
    this.pid = pid;
    this.mappings = List.copyOf(mappings);
    this.memory = memory;
  }

  /** The file name ("libc.so.6"), or "[vdso]". */
  public String name() {
    return mappings.getFirst().fileName();
  }

  /** The path as /proc/PID/maps shows it, " (deleted)" included. */
  public String path() {
    return mappings.getFirst().path();
  }

  /** Its mappings, lowest address first. */
  public List<Mapping> mappings() {
    return mappings;
  }

  /** Lowest mapped address. */
  public long base() {
    return mappings.getFirst().start();
  }

  /** The kernel's vDSO (no file on disk). */
  public boolean isVdso() {
    return mappings.getFirst().isVdso();
  }

  /** The process's executable (not a library). */
  public boolean isMainProgram() {
    return mainProgram;
  }

  void markMainProgram() {
    mainProgram = true;
  }

  /** Whether a mapping of this module holds {@code address}. */
  public boolean contains(long address) {
    return mappings.stream().anyMatch(m -> m.contains(address));
  }

  /** The ELF file, opened on first call; a BadInputException if it is not usable ELF. */
  public synchronized ElfFile elf() {
    if (elf == null && openError == null) {
      try {
        elf = isVdso() ? readVdso() : openFile();
      } catch (BadInputException e) {
        openError = e;
      }
    }
    if (openError != null) throw openError;
    return elf;
  }

  /** The ELF file, or empty when it cannot be opened or is not ELF (JIT code, data). */
  Optional<ElfFile> usableElf() {
    try {
      return Optional.of(elf());
    } catch (BadInputException e) {
      return Optional.empty();
    }
  }

  private ElfFile readVdso() {
    Mapping m = mappings.getFirst();
    return ElfFile.of("[vdso]", memory.read(m.start(), Math.toIntExact(m.size())));
  }

  private ElfFile openFile() {
    Mapping m = mappings.getFirst();
    Path exact = Path.of("/proc", Integer.toString(pid), "map_files",
        Long.toHexString(m.start()) + "-" + Long.toHexString(m.end()));
    try {
      return SharedElfFiles.acquire(exact, path(), () -> ElfFile.open(exact, path()));
    } catch (BadInputException e) {
      if (!(e.getCause() instanceof IOException)) throw e;
      if (m.isDeleted()) {
        throw new BadInputException(path() + ": mapped in process " + pid + " but deleted, and "
            + exact + " cannot be opened (" + e.getMessage() + "); run qpatch as root");
      }
      Path viaRoot = Path.of("/proc/" + pid + "/root" + m.filePath());
      return SharedElfFiles.acquire(viaRoot, path(), () -> ElfFile.open(viaRoot, path()));
    }
  }

  /**
   * Load bias: run-time address minus link-time address, 0 for a non-PIE executable.
   * Mapping m shows file offset m.offset at m.start; the PT_LOAD segment holding that
   * offset maps file offset p_offset at p_vaddr + bias, hence
   * bias = m.start - p_vaddr + (p_offset - m.offset).
   */
  public synchronized long loadBias() {
    if (loadBias == null) loadBias = computeLoadBias(elf(), mappings.getFirst());
    return loadBias;
  }

  static long computeLoadBias(ElfFile elf, Mapping m) {
    List<ProgramHeader> loads = elf.programHeaders().stream().filter(ProgramHeader::isLoad)
        .toList();
    if (loads.isEmpty()) throw new BadInputException(elf.name() + ": no PT_LOAD segment");
    for (ProgramHeader p : loads) {
      long pageStart = p.offset() & ~PAGE_MASK;
      if (m.offset() >= pageStart && m.offset() < p.offset() + Math.max(p.filesz(), 1)) {
        return m.start() - p.vaddr() + (p.offset() - m.offset());
      }
    }
    return m.start() - (loads.getFirst().vaddr() & ~PAGE_MASK);
  }

  /** Its GNU build-id in hex (readelf -n), when it has one. */
  public Optional<String> buildId() {
    return usableElf().flatMap(ElfFile::buildId);
  }

  /**
   * Addresses the module's PT_LOAD segments span once loaded, [first, end): wider than the
   * file mappings when .bss continues into anonymous memory.
   */
  long[] loadedRange() {
    long low = Long.MAX_VALUE;
    long high = 0;
    for (ProgramHeader p : elf().programHeaders()) {
      if (!p.isLoad()) continue;
      low = Math.min(low, p.vaddr());
      high = Math.max(high, p.vaddr() + p.memsz());
    }
    if (low > high) return new long[] {0, 0};
    return new long[] {low + loadBias(), high + loadBias()};
  }

  synchronized ModuleSymbols symbols() {
    if (symbols == null) symbols = new ModuleSymbols(this);
    return symbols;
  }

  /** Releases the mapped ELF file, if it was read. */
  @Override
  public synchronized void close() {
    if (elf == null) return;
    if (isVdso()) elf.close();
    else SharedElfFiles.release(elf);
    elf = null;
  }

  /** Its name and base address. */
  @Override
  public String toString() {
    return String.format("%s at 0x%x", name(), base());
  }
}
