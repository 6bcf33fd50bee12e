package io.qpatch.symbols;

import io.qpatch.elf.Symbol;

/** A symbol definition found in a process: its run-time address and where it lives. */
public record ResolvedSymbol(long address, Module module, Symbol symbol) {

  /** "libc.so.6!sleep@@GLIBC_2.2.5", unambiguous input for a qualified lookup. */
  public String qualifiedName() {
    return module.name() + "!" + symbol.versionedName();
  }

  /** {@code module!symbol at 0xaddress}. */
  @Override
  public String toString() {
    return String.format("%s at 0x%x", qualifiedName(), address);
  }
}
