package io.qpatch.link;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.Symbol;
import io.qpatch.elf.SymbolTable;
import io.qpatch.error.BadInputException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Resolves the symbols of an object, in this order for a non-local symbol:
 * <ol>
 *   <li>the caller's overrides (name to address), e.g. {@code sleep} inside a hook pointed
 *       at the trampoline that reaches the original;
 *   <li>the object's own definition, unless it lies in a dropped COMDAT group;
 *   <li>the target ({@link SymbolSource}); {@code _GLOBAL_OFFSET_TABLE_} is the object's own
 *       GOT and {@code __dso_handle} its own handle. A weak reference nobody defines is 0
 *       (gABI "Symbol Table": unresolved weak symbols have a zero value).
 * </ol>
 * Undefined symbols are collected over the whole object and reported in one message.
 */
final class SymbolBinder {
  static final String GOT_SYMBOL = "_GLOBAL_OFFSET_TABLE_";
  static final String DSO_HANDLE = "__dso_handle";

  private final ElfFile elf;
  private final SymbolTable symtab;
  private final SectionSelection selection;
  private final Map<String, Long> overrides;
  private final SymbolSource source;
  private final Binding[] bindings;
  private final Set<String> missing = new LinkedHashSet<>();
  private final Set<String> missingTls = new LinkedHashSet<>();

  SymbolBinder(ElfFile elf, SymbolTable symtab, SectionSelection selection,
      Map<String, Long> overrides, SymbolSource source) {
    this.elf = elf;
    this.symtab = symtab;
    this.selection = selection;
    this.overrides = overrides;
    this.source = source;
    this.bindings = new Binding[symtab.size()];
  }

  SymbolTable symtab() {
    return symtab;
  }

  /** The binding of symbol {@code index}; an unresolved symbol is noted and bound to 0. */
  Binding get(int index) {
    if (bindings[index] == null) bindings[index] = resolve(symtab.get(index));
    return bindings[index];
  }

  /** Throws one message naming every symbol that did not resolve. */
  void requireAllResolved() {
    if (!missing.isEmpty()) {
      String plural = missing.size() > 1 ? "s " : " ";
      throw new BadInputException(elf.name() + ": undefined symbol" + plural + quoted(missing)
          + " not found in " + source.describe());
    }
    if (!missingTls.isEmpty()) {
      throw new BadInputException(elf.name() + ": thread-local " + quoted(missingTls)
          + " is not a __thread variable of the executable of " + source.describe()
          + " (a patch reaches only the executable's own thread-locals)");
    }
  }

  private static String quoted(Set<String> names) {
    List<String> q = new ArrayList<>();
    names.forEach(n -> q.add("'" + n + "'"));
    return String.join(", ", q);
  }

  private Binding resolve(Symbol s) {
    if (s.index() == 0) return new Binding.Absolute(0);
    if (!s.isLocal() && overrides.containsKey(s.name())) {
      return new Binding.External(new TargetSymbol(overrides.get(s.name()), true,
          "override " + s.name()));
    }
    if (s.isAbsolute()) return new Binding.Absolute(s.value());
    if (s.isCommon()) return common(s);
    if (s.isDefined()) return defined(s);
    return undefined(s);
  }

  private Binding defined(Symbol s) {
    if (s.type() == Symbol.STT_GNU_IFUNC) {
      throw new BadInputException(elf.name() + ": '" + s.name() + "' is an IFUNC; a patch"
          + " cannot define one (nothing would run its resolver), define a plain function");
    }
    long offset = s.type() == Symbol.STT_SECTION ? 0 : s.value();
    if (selection.isLoaded(s.sectionIndex())) {
      return new Binding.InSection(s.sectionIndex(), offset);
    }
    if (!selection.dropped.contains(s.sectionIndex())) {
      throw new BadInputException(elf.name() + ": symbol '" + name(s) + "' is defined in "
          + elf.section(s.sectionIndex()).label() + ", which is not loaded");
    }
    if (s.isLocal()) return new Binding.Discarded(s.sectionIndex());
    return external(s).orElseThrow();  // the group was dropped because the target has it
  }

  private Binding common(Symbol s) {
    Optional<Binding> target = external(s);
    return target.orElseGet(() -> new Binding.Common(s.index(), s.size(), Math.max(s.value(), 1)));
  }

  private Binding undefined(Symbol s) {
    if (s.name().equals(GOT_SYMBOL)) return new Binding.GotBase();
    if (s.name().equals(DSO_HANDLE)) return new Binding.DsoHandle();
    if (s.isTls()) {
      Optional<ThreadLocalSymbol> tls = source.lookupThreadLocal(s.name());
      if (tls.isPresent()) return new Binding.ThreadLocal(tls.get());
      if (!s.isWeak()) missingTls.add(s.name());
      return new Binding.Absolute(0);
    }
    Optional<Binding> target = external(s);
    if (target.isPresent()) return target.get();
    if (!s.isWeak()) missing.add(s.name());
    return new Binding.Absolute(0);
  }

  private Optional<Binding> external(Symbol s) {
    return source.lookup(s.name()).map(Binding.External::new);
  }

  /** A symbol's name for messages; a section symbol is named by its section. */
  String name(Symbol s) {
    if (s.type() == Symbol.STT_SECTION && s.sectionIndex() < Symbol.SHN_LORESERVE) {
      return elf.section(s.sectionIndex()).name();
    }
    return s.name();
  }
}
