package io.qpatch.symbols;

import io.qpatch.elf.Symbol;

/**
 * What an address is: in {@code module} (null when no module maps it), inside
 * {@code symbol} (null when no symbol covers it) at {@code offset} bytes from the symbol's
 * start, or from the module's link-time address 0 when there is no symbol.
 */
public record Location(long address, Module module, Symbol symbol, long offset) {

  /**
   * "main+0x4" in the main program, "libc.so.6!sleep+0x4" elsewhere, "libc.so.6+0x1234"
   * without a symbol (the offset is the address readelf shows), "0x7ffd..." outside every
   * module.
   */
  @Override
  public String toString() {
    if (module == null) return "0x" + Long.toHexString(address);
    String where = symbol == null ? module.name()
        : module.isMainProgram() ? symbol.name() : module.name() + "!" + symbol.name();
    return offset == 0 && symbol != null ? where : where + "+0x" + Long.toHexString(offset);
  }
}
