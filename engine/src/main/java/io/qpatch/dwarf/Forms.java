package io.qpatch.dwarf;

/**
 * Reads one attribute value of a given form (DWARF 5, 7.5.6) into the raw long that
 * {@link Die} keeps: the value itself for constants, addresses, flags, offsets and
 * indexes; an absolute .debug_info offset for unit-relative references; and, for strings
 * and blocks stored inline, the position of their bytes.
 */
final class Forms {
  private Forms() {}

  static long read(Cursor c, Unit unit, int form, long implicit) {
    return switch (form) {
      case Dw.FORM_ADDR -> c.unsigned(unit.addressSize);
      case Dw.FORM_DATA1, Dw.FORM_FLAG, Dw.FORM_STRX1, Dw.FORM_ADDRX1 -> c.u8();
      case Dw.FORM_DATA2, Dw.FORM_STRX2, Dw.FORM_ADDRX2 -> c.u16();
      case Dw.FORM_STRX3, Dw.FORM_ADDRX3 -> c.u24();
      case Dw.FORM_DATA4, Dw.FORM_STRX4, Dw.FORM_ADDRX4, Dw.FORM_REF_SUP4 -> c.u32();
      case Dw.FORM_DATA8, Dw.FORM_REF_SIG8, Dw.FORM_REF_SUP8 -> c.u64();
      case Dw.FORM_SDATA -> c.sleb();
      case Dw.FORM_UDATA, Dw.FORM_STRX, Dw.FORM_ADDRX, Dw.FORM_LOCLISTX, Dw.FORM_RNGLISTX,
           Dw.FORM_GNU_ADDR_INDEX, Dw.FORM_GNU_STR_INDEX -> c.uleb();
      case Dw.FORM_IMPLICIT_CONST -> implicit;
      case Dw.FORM_FLAG_PRESENT -> 1;
      case Dw.FORM_STRP, Dw.FORM_LINE_STRP, Dw.FORM_SEC_OFFSET, Dw.FORM_STRP_SUP,
           Dw.FORM_GNU_STRP_ALT, Dw.FORM_GNU_REF_ALT -> c.unsigned(unit.offsetSize);
      case Dw.FORM_REF1 -> local(c, unit, c.u8());
      case Dw.FORM_REF2 -> local(c, unit, c.u16());
      case Dw.FORM_REF4 -> local(c, unit, c.u32());
      case Dw.FORM_REF8 -> local(c, unit, c.u64());
      case Dw.FORM_REF_UDATA -> local(c, unit, c.uleb());
      case Dw.FORM_REF_ADDR -> c.unsigned(unit.version <= 2 ? unit.addressSize : unit.offsetSize);
      case Dw.FORM_STRING -> skipString(c);
      case Dw.FORM_DATA16 -> skipBytes(c, 16);
      case Dw.FORM_BLOCK1 -> skipBlock(c, c.pos(), c.u8());
      case Dw.FORM_BLOCK2 -> skipBlock(c, c.pos(), c.u16());
      case Dw.FORM_BLOCK4 -> skipBlock(c, c.pos(), c.u32());
      case Dw.FORM_BLOCK, Dw.FORM_EXPRLOC -> skipBlock(c, c.pos(), c.uleb());
      default -> throw c.bad(String.format("unknown attribute form 0x%x at 0x%x", form, c.pos()));
    };
  }

  /** Unit-relative references become absolute; they must land inside the unit. */
  private static long local(Cursor c, Unit unit, long relative) {
    if (relative < 0 || relative >= unit.end - unit.offset) {
      throw c.bad(String.format("reference +0x%x at 0x%x points outside its unit (0x%x bytes)",
          relative, c.pos(), unit.end - unit.offset));
    }
    return unit.offset + relative;
  }

  private static long skipString(Cursor c) {
    long start = c.pos();
    c.skipCString();
    return start;
  }

  private static long skipBytes(Cursor c, int n) {
    long start = c.pos();
    c.skip(n);
    return start;
  }

  /** Steps over a block whose length field started at {@code start}; returns start. */
  private static long skipBlock(Cursor c, long start, long length) {
    c.skip(length);
    return start;
  }
}
