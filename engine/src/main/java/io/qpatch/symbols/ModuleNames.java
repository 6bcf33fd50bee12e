package io.qpatch.symbols;

import io.qpatch.error.BadInputException;
import java.util.List;
import java.util.function.Predicate;

/**
 * Finds a module by what a user types before "!": exact file name, full path, "vdso", a
 * prefix ending at a name boundary ("libc" for libc.so.6, not libcap.so.2), or any unique
 * prefix. The first rule that matches exactly one module wins; a rule matching several is
 * an error naming them.
 */
final class ModuleNames {
  private ModuleNames() {}

  static Module find(List<Module> modules, String name, int pid) {
    List<Predicate<Module>> rules = List.of(
        m -> m.name().equals(name),
        m -> m.mappings().getFirst().filePath().equals(name),
        m -> m.isVdso() && (name.equals("vdso") || name.equals("linux-vdso.so.1")),
        m -> m.name().startsWith(name) && isBoundary(m.name(), name.length()),
        m -> m.name().startsWith(name));
    for (Predicate<Module> rule : rules) {
      List<Module> found = modules.stream().filter(rule).toList();
      if (found.size() == 1) return found.getFirst();
      if (found.size() > 1) {
        throw new BadInputException("module '" + name + "' is ambiguous in process " + pid
            + ": " + ProcessSymbols.shortList(found.stream().map(Module::toString).toList()));
      }
    }
    throw new BadInputException("no module '" + name + "' in process " + pid + " (modules: "
        + ProcessSymbols.shortList(modules.stream().map(Module::name).toList()) + ")");
  }

  private static boolean isBoundary(String name, int at) {
    return at < name.length() && ".-_".indexOf(name.charAt(at)) >= 0;
  }
}
