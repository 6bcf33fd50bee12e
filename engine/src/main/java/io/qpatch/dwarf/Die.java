package io.qpatch.dwarf;

/**
 * One debugging information entry as read: its abbreviation and, per attribute, a raw
 * value. Numbers, addresses, flags and references (made absolute in .debug_info) are held
 * directly; strings and blocks are held as the position of their bytes and decoded only
 * when asked for, so a scan over every DIE creates almost no objects.
 *
 * <p>A null entry (abbreviation code 0, the end of a sibling list) has no abbreviation.
 */
final class Die {
  final DieReader reader;
  final Unit unit;
  final long offset;
  final Abbrev abbrev;
  final int[] forms;
  final long[] values;
  /** The offset just past this entry's attributes: its first child, or its next sibling. */
  final long end;

  Die(DieReader reader, Unit unit, long offset, Abbrev abbrev, int[] forms, long[] values,
      long end) {
    this.reader = reader;
    this.unit = unit;
    this.offset = offset;
    this.abbrev = abbrev;
    this.forms = forms;
    this.values = values;
    this.end = end;
  }

  boolean isNull() {
    return abbrev == null;
  }

  int tag() {
    return abbrev.tag();
  }

  boolean hasChildren() {
    return abbrev != null && abbrev.hasChildren();
  }

  int index(int attr) {
    int[] attrs = abbrev.attrs();
    for (int i = 0; i < attrs.length; i++) if (attrs[i] == attr) return i;
    return -1;
  }

  boolean has(int attr) {
    return index(attr) >= 0;
  }

  /** The attribute's string, or null when absent (or in a supplementary file). */
  String string(int attr) {
    int i = index(attr);
    return i < 0 ? null : reader.stringValue(this, i);
  }

  /** A constant, address or offset; {@code otherwise} when absent. */
  long number(int attr, long otherwise) {
    int i = index(attr);
    return i < 0 ? otherwise : reader.numberValue(this, i);
  }

  /** The absolute .debug_info offset a reference attribute points to, or -1. */
  long ref(int attr) {
    int i = index(attr);
    return i < 0 ? -1 : reader.refValue(this, i);
  }

  boolean flag(int attr) {
    int i = index(attr);
    return i >= 0 && values[i] != 0;
  }

  /** A block or exprloc's bytes, or null when absent or of another form. */
  byte[] block(int attr) {
    int i = index(attr);
    return i < 0 ? null : reader.blockValue(this, i);
  }

  int form(int attr) {
    int i = index(attr);
    return i < 0 ? 0 : forms[i];
  }

  @Override
  public String toString() {
    return isNull() ? "<null>@0x" + Long.toHexString(offset)
        : String.format("DIE tag 0x%x @0x%x", tag(), offset);
  }
}
