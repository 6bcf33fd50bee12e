package io.qpatch.link;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.ProgramHeader;
import io.qpatch.elf.Symbol;
import io.qpatch.error.BadInputException;
import io.qpatch.proc.Target;
import io.qpatch.symbols.Module;
import io.qpatch.symbols.ProcessSymbols;
import io.qpatch.symbols.ResolvedSymbol;
import io.qpatch.symbols.Ifuncs;
import io.qpatch.symbols.MemoryReader;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Undefined symbols of a patch resolved in a live process, in this order:
 * <ol>
 *   <li>the main executable, every definition its symbol table has: exported ones, then
 *       non-exported functions and variables from {@code .symtab} (the patch's reason to
 *       exist is often a static function of the program);
 *   <li>the libraries in the dynamic linker's search order, first exported definition
 *       (default version preferred) wins, as for any other module's reference;
 *   <li>non-exported definitions in libraries (only present when a library has .symtab).
 * </ol>
 * Two non-exported definitions of one name at one step are ambiguous: an error lists them.
 *
 * <p>An IFUNC (STT_GNU_IFUNC: memcpy, strlen ... in glibc) is resolved to the implementation
 * the process already uses, see {@link Ifuncs}.
 *
 * <p>Not thread-safe beyond its own cache; one linking at a time.
 */
public final class ProcessSymbolSource implements SymbolSource {
  private final ProcessSymbols symbols;
  private final Ifuncs ifuncs;
  private final Map<String, Optional<TargetSymbol>> cache = new HashMap<>();

  /** Without a target: an IFUNC no GOT slot has resolved yet is refused. */
  public ProcessSymbolSource(ProcessSymbols symbols) {
    this(symbols, MemoryReader.ofProcess(symbols.pid()), null);
  }

  /** With a target that, while stopped, may run an IFUNC's resolver (see {@link Ifuncs}). */
  public ProcessSymbolSource(ProcessSymbols symbols, Target target) {
    this(symbols, target::read, target);
  }

  public ProcessSymbolSource(ProcessSymbols symbols, MemoryReader memory, Target target) {
    this.symbols = symbols;
    this.ifuncs = new Ifuncs(symbols, memory, target);
  }

  @Override
  public String describe() {
    return "process " + symbols.pid();
  }

  @Override
  public synchronized Optional<TargetSymbol> lookup(String name) {
    Optional<TargetSymbol> found = cache.get(name);
    if (found == null) {
      found = find(name);
      cache.put(name, found);
    }
    return found;
  }

  private Optional<TargetSymbol> find(String name) {
    List<ResolvedSymbol> all = symbols.lookupAll(name);
    if (all.isEmpty()) return Optional.empty();
    ResolvedSymbol chosen = choose(name, all);
    long address = chosen.symbol().type() == Symbol.STT_GNU_IFUNC
        ? ifuncs.implementation(chosen) : chosen.address();
    return Optional.of(new TargetSymbol(address, chosen.symbol().isFunction(),
        chosen.qualifiedName()));
  }

  private ResolvedSymbol choose(String name, List<ResolvedSymbol> all) {
    List<ResolvedSymbol> main = all.stream().filter(r -> r.module().isMainProgram()).toList();
    if (!main.isEmpty()) {
      Optional<ResolvedSymbol> exported = firstExported(main);
      return exported.orElseGet(() -> unique(name, main));
    }
    return firstExported(all).orElseGet(() -> unique(name, all));
  }

  /** The first exported definition in search order, a default or unversioned one first. */
  private static Optional<ResolvedSymbol> firstExported(List<ResolvedSymbol> list) {
    List<ResolvedSymbol> exported = list.stream().filter(r -> r.symbol().isExported()).toList();
    return exported.stream().filter(r -> isDefaultVersion(r.symbol())).findFirst()
        .or(() -> exported.stream().findFirst());
  }

  private static boolean isDefaultVersion(Symbol s) {
    if (s.version() != null) return s.isDefaultVersion() || s.version().equals(s.name());
    return !s.name().contains("@") || s.name().contains("@@");
  }

  private ResolvedSymbol unique(String name, List<ResolvedSymbol> candidates) {
    Set<Long> addresses = candidates.stream().map(ResolvedSymbol::address)
        .collect(Collectors.toCollection(LinkedHashSet::new));
    if (addresses.size() == 1) return candidates.getFirst();
    String each = candidates.stream().map(ResolvedSymbol::toString)
        .collect(Collectors.joining(", "));
    throw new BadInputException("symbol '" + name + "' is ambiguous in process "
        + symbols.pid() + ": " + each + "; rename it in the patch or the program");
  }

  /**
   * A {@code __thread} variable of the main executable. Its static TLS block sits at a fixed
   * offset below the thread pointer; see {@link #staticTlsOffset}.
   */
  @Override
  public Optional<ThreadLocalSymbol> lookupThreadLocal(String name) {
    Optional<Module> main = symbols.mainProgram();
    if (main.isEmpty()) return Optional.empty();
    ElfFile elf = main.get().elf();
    List<Symbol> defs = new ArrayList<>();
    elf.symtab().or(elf::dynsym).ifPresent(t -> defs.addAll(t.named(name)));
    Optional<Symbol> tls = defs.stream().filter(s -> s.isTls() && s.isDefined()).findFirst();
    Optional<ProgramHeader> segment = elf.programHeaders().stream()
        .filter(p -> p.type() == ProgramHeader.PT_TLS).findFirst();
    if (tls.isEmpty() || segment.isEmpty()) return Optional.empty();
    long offset = staticTlsOffset(segment.get());
    return Optional.of(new ThreadLocalSymbol(main.get().name() + "!" + name,
        tls.get().value() - offset, 1, tls.get().value()));
  }

  /**
   * How far below the thread pointer the executable's TLS block starts. glibc gives the
   * executable the first static block (elf/dl-tls.c, _dl_determine_tlsoffset, TLS_TCB_AT_TP):
   * {@code off = roundup(blocksize - firstbyte, align) + firstbyte} with {@code firstbyte =
   * -(p_vaddr & (align-1)) & (align-1)} (rtld.c sets l_tls_firstbyte_offset from p_vaddr).
   * A TLS symbol's st_value in an executable is its offset inside the segment, so its
   * address is {@code tp - off + st_value}. The executable is TLS module 1 (rtld.c).
   */
  static long staticTlsOffset(ProgramHeader tls) {
    long align = Math.max(tls.align(), 1);
    long firstByte = -(tls.vaddr() & (align - 1)) & (align - 1);
    return roundUp(tls.memsz() - firstByte, align) + firstByte;
  }

  private static long roundUp(long v, long align) {
    return (v + align - 1) / align * align;
  }
}
