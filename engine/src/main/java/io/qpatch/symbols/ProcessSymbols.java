package io.qpatch.symbols;

import io.qpatch.elf.Symbol;
import io.qpatch.error.BadInputException;
import io.qpatch.proc.Mapping;
import io.qpatch.proc.ProcMaps;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Symbol resolution over every module mapped in a process, a snapshot of its mappings
 * taken at construction (make a new one after the process loads a library).
 *
 * <p>Lookup semantics ({@link #lookup}):
 * <ul>
 *   <li>"name" searches every module; "module!name" one module, named by file name or a
 *       unique prefix ("libc" finds libc.so.6); "name@VER" / "name@@VER" pick a version,
 *       and an unversioned name prefers the default ("@@") version.
 *   <li>Undefined entries, section/file markers and COMMON are never candidates.
 *       Thread-local symbols have no single address and are refused with a message.
 *   <li>Exported definitions (global or weak, default or protected visibility) resolve in
 *       the dynamic linker's search order, main program first: that is the definition
 *       calls from other modules reach.
 *   <li>Several definitions that the search order does not decide (static functions of
 *       the same name in two modules, or a static one next to an exported one) are an
 *       error that lists each candidate with module and address.
 * </ul>
 */
public final class ProcessSymbols implements AutoCloseable {
  private static final int MAX_LISTED = 8;

  private final int pid;
  private final List<Module> modules;

  private ProcessSymbols(int pid, List<Module> modules) {
    this.pid = pid;
    this.modules = modules;
  }

  /** Reads /proc/PID/maps and reads memory through /proc/PID/mem. */
  public static ProcessSymbols of(int pid) {
    return of(pid, ProcMaps.read(pid), MemoryReader.ofProcess(pid));
  }

  /** From mappings already read, with the caller's way to read target memory. */
  public static ProcessSymbols of(int pid, List<Mapping> mappings, MemoryReader memory) {
    List<Module> modules = ModuleScan.group(pid, mappings, memory);
    Module main = ModuleScan.mainProgram(pid, modules);
    if (main != null) main.markMainProgram();
    return new ProcessSymbols(pid, SearchOrder.order(modules, main, memory));
  }

  public int pid() {
    return pid;
  }

  /** Every module, in the dynamic linker's search order ([vdso] last). */
  public List<Module> modules() {
    return modules;
  }

  public Optional<Module> mainProgram() {
    return modules.stream().filter(Module::isMainProgram).findFirst();
  }

  /** The module named {@code name}: file name, full path, or unique prefix of a file name. */
  public Module module(String name) {
    return ModuleNames.find(modules, name, pid);
  }

  /** The one definition {@code name} denotes; see the class comment for the rules. */
  public ResolvedSymbol lookup(String name) {
    SymbolName query = parse(name);
    if (query.module() != null) return lookupIn(module(query.module()), query);
    List<ResolvedSymbol> exported = new ArrayList<>();
    List<ResolvedSymbol> local = new ArrayList<>();
    for (Module m : modules) {
      for (ResolvedSymbol r : preferredIn(m, query)) {
        (r.symbol().isExported() ? exported : local).add(r);
      }
    }
    if (local.isEmpty() && !exported.isEmpty()) return exported.getFirst();
    List<ResolvedSymbol> all = new ArrayList<>(exported);
    all.addAll(local);
    if (all.size() == 1) return all.getFirst();
    if (all.isEmpty()) throw notFound(query, modules);
    throw ambiguous(query, all);
  }

  /** Every definition matching {@code name}, all versions, in search order. */
  public List<ResolvedSymbol> lookupAll(String name) {
    SymbolName query = parse(name);
    List<Module> scope = query.module() == null ? modules : List.of(module(query.module()));
    List<ResolvedSymbol> all = new ArrayList<>();
    for (Module m : scope) {
      Optional<ModuleSymbols> symbols = symbolsOf(m);
      if (symbols.isEmpty()) continue;
      for (Symbol s : symbols.get().matching(query)) {
        if (!s.isTls()) all.add(new ResolvedSymbol(symbols.get().addressOf(s), m, s));
      }
    }
    return all;
  }

  /** The module and symbol holding {@code address}. */
  public Location locate(long address) {
    Module m = moduleAt(address);
    if (m == null) return new Location(address, null, null, 0);
    Optional<ModuleSymbols> symbols = symbolsOf(m);
    if (symbols.isEmpty()) return new Location(address, m, null, address - m.base());
    long vaddr = address - m.loadBias();
    return symbols.get().covering(vaddr)
        .map(s -> new Location(address, m, s, vaddr - s.value()))
        .orElseGet(() -> new Location(address, m, null, vaddr));
  }

  /** "main+0x4", "libc.so.6!sleep+0x12", "libc.so.6+0x1234" or "0x7ffd1234". */
  public String describe(long address) {
    return locate(address).toString();
  }

  private ResolvedSymbol lookupIn(Module m, SymbolName query) {
    m.elf();  // a module that is not usable ELF says why here
    List<ResolvedSymbol> found = preferredIn(m, query);
    if (found.size() == 1) return found.getFirst();
    if (found.isEmpty()) throw notFound(query, List.of(m));
    throw ambiguous(query, found);
  }

  /** Per module, the definitions an unversioned reference could bind to (one per address). */
  private List<ResolvedSymbol> preferredIn(Module m, SymbolName query) {
    Optional<ModuleSymbols> symbols = symbolsOf(m);
    if (symbols.isEmpty()) return List.of();
    List<Symbol> matches = symbols.get().matching(query).stream()
        .filter(s -> !s.isTls()).toList();
    return ModuleSymbols.preferred(matches).stream()
        .map(s -> new ResolvedSymbol(symbols.get().addressOf(s), m, s)).toList();
  }

  private static Optional<ModuleSymbols> symbolsOf(Module m) {
    return m.usableElf().map(elf -> m.symbols());
  }

  private Module moduleAt(long address) {
    for (Module m : modules) {
      if (m.contains(address)) return m;
    }
    for (Module m : modules) {
      if (m.usableElf().isEmpty()) continue;
      long[] range = m.loadedRange();
      if (Long.compareUnsigned(address - range[0], range[1] - range[0]) < 0) return m;
    }
    return null;
  }

  private static SymbolName parse(String name) {
    SymbolName query = SymbolName.parse(name);
    if (query.name().isEmpty()) throw new BadInputException("no symbol name in '" + name + "'");
    return query;
  }

  private BadInputException notFound(SymbolName query, List<Module> searched) {
    boolean tls = searched.stream().flatMap(m -> symbolsOf(m).stream())
        .anyMatch(s -> s.matching(query).stream().anyMatch(Symbol::isTls));
    if (tls) {
      return new BadInputException("symbol '" + query + "' in process " + pid
          + " is thread-local: it has a copy per thread, not one address");
    }
    List<String> names = searched.stream().filter(m -> m.usableElf().isPresent())
        .map(Module::name).toList();
    return new BadInputException("symbol '" + query + "' not found in process " + pid
        + " (searched: " + shortList(names) + ")");
  }

  private BadInputException ambiguous(SymbolName query, List<ResolvedSymbol> candidates) {
    List<String> each = candidates.stream().map(r -> String.format("%s!%s at 0x%x (%s)",
        r.module().name(), r.symbol().versionedName(), r.address(),
        r.symbol().isExported() ? "exported" : "local")).toList();
    return new BadInputException("symbol '" + query + "' is ambiguous in process " + pid
        + ": " + shortList(each) + "; name one as MODULE!" + query.name());
  }

  static String shortList(List<String> items) {
    if (items.size() <= MAX_LISTED) return String.join(", ", items);
    return items.stream().limit(MAX_LISTED).collect(Collectors.joining(", "))
        + ", and " + (items.size() - MAX_LISTED) + " more";
  }

  @Override
  public void close() {
    modules.forEach(Module::close);
  }
}
