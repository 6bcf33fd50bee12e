package io.qpatch.symbols;

import io.qpatch.elf.Symbol;

/**
 * A symbol as the user writes it: {@code [module!]name[@version|@@version]}, e.g. "sleep",
 * "libc.so.6!sleep", "sleep@@GLIBC_2.2.5". {@code module} is null when unqualified,
 * {@code version} null when any version will do; {@code defaultOnly} is the "@@" form.
 */
record SymbolName(String module, String name, String version, boolean defaultOnly) {

  static SymbolName parse(String text) {
    String module = null;
    String rest = text.strip();
    int bang = rest.indexOf('!');
    if (bang >= 0) {
      module = rest.substring(0, bang);
      rest = rest.substring(bang + 1);
    }
    int at = rest.indexOf('@');
    if (at < 0) return new SymbolName(module, rest, null, false);
    boolean twice = rest.startsWith("@@", at);
    return new SymbolName(module, rest.substring(0, at),
        rest.substring(at + (twice ? 2 : 1)), twice);
  }

  /** The name part of a symbol, whether versioned through .gnu.version or "name@VER". */
  static String baseName(Symbol s) {
    if (s.version() != null) return s.name();
    int at = s.name().indexOf('@');
    return at < 0 ? s.name() : s.name().substring(0, at);
  }

  static String versionOf(Symbol s) {
    if (s.version() != null) return s.version();
    int at = s.name().indexOf('@');
    if (at < 0) return null;
    return s.name().substring(s.name().startsWith("@@", at) ? at + 2 : at + 1);
  }

  /** Unversioned, or the default ("@@") version: what an unversioned reference binds to. */
  static boolean isDefault(Symbol s) {
    if (s.version() != null) return s.isDefaultVersion() || s.version().equals(s.name());
    int at = s.name().indexOf('@');
    return at < 0 || s.name().startsWith("@@", at);
  }

  boolean matches(Symbol s) {
    if (!baseName(s).equals(name)) return false;
    if (version == null) return true;
    return version.equals(versionOf(s)) && (!defaultOnly || isDefault(s));
  }

  @Override
  public String toString() {
    String v = version == null ? "" : (defaultOnly ? "@@" : "@") + version;
    return (module == null ? "" : module + "!") + name + v;
  }
}
