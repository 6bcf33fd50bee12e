package io.qpatch.link;

/** The linker-made parts of an image: GOT slots and PLT veneers. */
final class Tables {
  private Tables() {}

  /**
   * Fills every GOT slot: a symbol's address, its offset from the thread pointer (for
   * GOTTPOFF, what R_X86_64_TPOFF64 would put there), or a tls_index {module id, offset}
   * (for TLSGD, what DTPMOD64 and DTPOFF64 would put there). Slots are filled once, at load.
   */
  static void fillGot(Layout layout, SymbolBinder binder, RelocationApplier applier, Image image) {
    for (var e : layout.got.entrySet()) {
      Layout.Slot kind = Layout.Slot.values()[(int) (e.getKey() >>> 32)];
      Binding b = binder.get((int) (long) e.getKey());
      long at = e.getValue();
      switch (kind) {
        case ADDRESS -> image.putLong(at, applier.value(b));
        case TP_OFFSET -> image.putLong(at, ((Binding.ThreadLocal) b).symbol().tpOffset());
        case TLS_INDEX -> {
          ThreadLocalSymbol t = ((Binding.ThreadLocal) b).symbol();
          image.putLong(at, t.moduleId());
          image.putLong(at + 8, t.dtpOffset());
        }
      }
    }
  }

  /**
   * Each veneer is {@code jmp *slot(%rip)} (ff 25 rel32, 6 bytes) through the symbol's
   * ADDRESS slot, padded with int3 to 8 bytes.
   */
  static void writeVeneers(Layout layout, long base, Image image) {
    for (var e : layout.veneers.entrySet()) {
      long at = e.getValue();
      long slot = layout.got.get(Layout.key(Layout.Slot.ADDRESS, e.getKey()));
      image.put(at, new byte[] {(byte) 0xff, 0x25});
      image.putBytes(at + 2, slot - (at + 6), 4);
      image.put(at + 6, new byte[] {(byte) 0xcc, (byte) 0xcc});
    }
  }
}
