package io.qpatch.symbols;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.Section;
import io.qpatch.elf.Symbol;
import io.qpatch.elf.SymbolTable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The symbols of one module, indexed by name and by address. Strip-aware: it uses
 * {@code .symtab} when the file has one (it holds static functions too) and falls back to
 * {@code .dynsym} (exported symbols only) when the file is stripped.
 */
final class ModuleSymbols {
  /** Which alias names an address: functions first, then global > weak > local, ... */
  static final Comparator<Symbol> PREFERENCE = Comparator
      .comparingInt((Symbol s) -> s.isFunction() ? 0 : 1)
      .thenComparingInt(s -> switch (s.bind()) {
        case Symbol.STB_GLOBAL -> 0;
        case Symbol.STB_WEAK -> 1;
        case Symbol.STB_LOCAL -> 3;
        default -> 2;
      })
      .thenComparingInt(s -> SymbolName.isDefault(s) ? 0 : 1)
      .thenComparingInt(ModuleSymbols::leadingUnderscores)
      .thenComparingInt(s -> s.name().length())
      .thenComparing(Symbol::name);

  private final Module module;
  private final ElfFile elf;
  private final SymbolTable table;
  private Map<String, List<Symbol>> byName;
  private Symbol[] byAddress;
  private long largestSize;

  ModuleSymbols(Module module) {
    this.module = module;
    this.elf = module.elf();
    this.table = elf.symtab().or(elf::dynsym).orElse(null);
  }

  /** The table in use, empty when the file has neither .symtab nor .dynsym. */
  Optional<SymbolTable> table() {
    return Optional.ofNullable(table);
  }

  /** Every definition matching {@code query}, thread-local ones included. */
  synchronized List<Symbol> matching(SymbolName query) {
    if (byName == null) byName = indexByName();
    return byName.getOrDefault(query.name(), List.of()).stream().filter(query::matches).toList();
  }

  /**
   * What an unversioned reference would bind to among {@code matches}, one per address:
   * default-version or unversioned definitions; a hidden version only when nothing else
   * matches (glibc elf/dl-lookup.c, check_match, accepts a lone hidden version).
   */
  static List<Symbol> preferred(List<Symbol> matches) {
    List<Symbol> defaults = matches.stream().filter(SymbolName::isDefault).toList();
    List<Symbol> pool = defaults.isEmpty() ? matches : defaults;
    Map<Long, Symbol> byValue = new LinkedHashMap<>();
    for (Symbol s : pool) {
      byValue.merge(s.value(), s, (a, b) -> PREFERENCE.compare(a, b) <= 0 ? a : b);
    }
    return List.copyOf(byValue.values());
  }

  /** Run-time address of a definition: absolute symbols are not relocated. */
  long addressOf(Symbol s) {
    return s.isAbsolute() ? s.value() : module.loadBias() + s.value();
  }

  /** The symbol whose extent covers link-time address {@code vaddr}, if any. */
  synchronized Optional<Symbol> covering(long vaddr) {
    if (byAddress == null) indexByAddress();
    int i = lastAtOrBelow(vaddr);
    Symbol best = null;
    for (int k = i; k >= 0 && byAddress[k].value() >= vaddr - largestSize; k--) {
      Symbol s = byAddress[k];
      if (vaddr - s.value() < s.size() && (best == null || PREFERENCE.compare(s, best) < 0)) {
        best = s;
      }
    }
    if (best == null && i >= 0 && byAddress[i].size() == 0 && sameSection(byAddress[i], vaddr)) {
      best = zeroSizedAt(i);
    }
    return Optional.ofNullable(best);
  }

  private Map<String, List<Symbol>> indexByName() {
    Map<String, List<Symbol>> map = new HashMap<>();
    if (table == null) return map;
    for (Symbol s : table.symbols()) {
      if (isDefinition(s) || (s.isTls() && s.isDefined())) {
        map.computeIfAbsent(SymbolName.baseName(s), k -> new ArrayList<>(1)).add(s);
      }
    }
    return map;
  }

  private void indexByAddress() {
    List<Symbol> list = new ArrayList<>();
    if (table != null) {
      for (Symbol s : table.symbols()) {
        if (isDefinition(s) && !s.isAbsolute()) list.add(s);
      }
    }
    byAddress = list.toArray(Symbol[]::new);
    Arrays.sort(byAddress, Comparator.comparingLong(Symbol::value));
    largestSize = list.stream().mapToLong(Symbol::size).max().orElse(0);
  }

  /** A defined symbol with an address: not a section/file marker, TLS offset or COMMON. */
  static boolean isDefinition(Symbol s) {
    return s.isDefined() && !s.name().isEmpty() && !s.isCommon() && !s.isTls()
        && s.type() != Symbol.STT_SECTION && s.type() != Symbol.STT_FILE;
  }

  private int lastAtOrBelow(long vaddr) {
    int low = 0;
    int high = byAddress.length - 1;
    int found = -1;
    while (low <= high) {
      int mid = (low + high) >>> 1;
      if (Long.compareUnsigned(byAddress[mid].value(), vaddr) <= 0) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found;
  }

  /** Among zero-sized labels at the same address as index {@code i}, the preferred one. */
  private Symbol zeroSizedAt(int i) {
    Symbol best = byAddress[i];
    for (int k = i - 1; k >= 0 && byAddress[k].value() == best.value(); k--) {
      if (PREFERENCE.compare(byAddress[k], best) < 0) best = byAddress[k];
    }
    return best;
  }

  /** Whether {@code vaddr} lies in the section that defines {@code s}. */
  private boolean sameSection(Symbol s, long vaddr) {
    if (s.sectionIndex() >= Symbol.SHN_LORESERVE || s.sectionIndex() >= elf.sections().size()) {
      return false;
    }
    Section section = elf.sections().get(s.sectionIndex());
    return section.isAlloc() && vaddr - section.addr() < section.size() && vaddr >= section.addr();
  }

  private static int leadingUnderscores(Symbol s) {
    int n = 0;
    while (n < s.name().length() && s.name().charAt(n) == '_') n++;
    return n;
  }
}
