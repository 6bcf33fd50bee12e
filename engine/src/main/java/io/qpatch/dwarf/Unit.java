package io.qpatch.dwarf;

/**
 * One unit of .debug_info: its header (DWARF 5, 7.5.1; DWARF 2-4 put the abbreviation
 * offset before the address size and have no unit type) and the bases its first DIE sets
 * for DW_FORM_strx and DW_FORM_addrx. {@code end} is the offset just past the unit.
 */
final class Unit {
  final long offset;
  final long end;
  final int version;
  final int unitType;
  final int addressSize;
  final int offsetSize;
  final long abbrevOffset;
  final long firstDie;
  /** For type units: the signature and the absolute offset of the type's DIE. */
  final long typeSignature;
  final long typeOffset;
  final AbbrevTable abbrevs;
  long strOffsetsBase = -1;
  long addrBase = -1;

  private Unit(Header h, AbbrevTable abbrevs) {
    this.offset = h.offset;
    this.end = h.end;
    this.version = h.version;
    this.unitType = h.unitType;
    this.addressSize = h.addressSize;
    this.offsetSize = h.offsetSize;
    this.abbrevOffset = h.abbrevOffset;
    this.firstDie = h.firstDie;
    this.typeSignature = h.typeSignature;
    this.typeOffset = h.typeOffset;
    this.abbrevs = abbrevs;
  }

  /** The header fields as read, before the abbreviation table is attached. */
  static final class Header {
    long offset;
    long end;
    int version;
    int unitType = Dw.UT_COMPILE;
    int addressSize;
    int offsetSize;
    long abbrevOffset;
    long firstDie;
    long typeSignature;
    long typeOffset = -1;
  }

  /** Reads the header at {@code offset}; {@code abbrevs} maps abbrev offsets to tables. */
  static Header readHeader(Cursor c, long offset) {
    Header h = new Header();
    h.offset = offset;
    c.seek(offset);
    long length = c.u32();
    h.offsetSize = 4;
    if (length == 0xffffffffL) {
      length = c.u64();
      h.offsetSize = 8;
    } else if (length >= 0xfffffff0L) {
      throw c.bad(String.format("unit at 0x%x: reserved unit length 0x%x", offset, length));
    }
    if (length < 0 || length > c.size() - c.pos()) {
      throw c.bad(String.format("unit at 0x%x: length %s runs past the end of the section",
          offset, Long.toUnsignedString(length)));
    }
    h.end = c.pos() + length;
    h.version = c.u16();
    if (h.version < 2 || h.version > 5) {
      throw c.bad(String.format("unit at 0x%x: unsupported DWARF version %d", offset, h.version));
    }
    if (h.version >= 5) readV5Fields(c, h);
    else readV2Fields(c, h);
    if (h.addressSize != 4 && h.addressSize != 8) {
      throw c.bad(String.format("unit at 0x%x: address size %d", offset, h.addressSize));
    }
    h.firstDie = c.pos();
    if (h.firstDie > h.end) throw c.bad(String.format("unit at 0x%x: header overruns unit", offset));
    return h;
  }

  private static void readV5Fields(Cursor c, Header h) {
    h.unitType = c.u8();
    h.addressSize = c.u8();
    h.abbrevOffset = c.unsigned(h.offsetSize);
    switch (h.unitType) {
      case Dw.UT_SKELETON, Dw.UT_SPLIT_COMPILE -> c.u64();
      case Dw.UT_TYPE, Dw.UT_SPLIT_TYPE -> {
        h.typeSignature = c.u64();
        h.typeOffset = h.offset + c.unsigned(h.offsetSize);
      }
      default -> { }
    }
  }

  private static void readV2Fields(Cursor c, Header h) {
    h.abbrevOffset = c.unsigned(h.offsetSize);
    h.addressSize = c.u8();
  }

  static Unit of(Header h, AbbrevTable abbrevs) {
    return new Unit(h, abbrevs);
  }

  boolean contains(long dieOffset) {
    return dieOffset >= firstDie && dieOffset < end;
  }

  boolean isTypeUnit() {
    return typeOffset >= 0;
  }
}
