package io.qpatch.dwarf;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads units and DIEs from .debug_info on demand, and decodes attribute values: the
 * string forms through .debug_str, .debug_line_str and .debug_str_offsets, the indexed
 * address forms through .debug_addr (DWARF 5, 7.5.5 and 7.5.6).
 */
final class DieReader {
  private final DebugSections sections;
  private final DebugSection info;
  private final DebugSection abbrevSection;
  private final Map<Long, AbbrevTable> abbrevTables = new HashMap<>();
  private final Map<Long, Long> typeUnits = new HashMap<>();
  private List<Unit> units;

  DieReader(DebugSections sections) {
    this.sections = sections;
    this.info = sections.require(".debug_info", "the file");
    this.abbrevSection = sections.require(".debug_abbrev", ".debug_info");
  }

  DebugSection info() {
    return info;
  }

  /** Every unit of .debug_info in file order; headers only, read once. */
  synchronized List<Unit> units() {
    if (units == null) units = Collections.unmodifiableList(readUnits());
    return units;
  }

  private List<Unit> readUnits() {
    List<Unit> list = new ArrayList<>();
    Cursor c = new Cursor(info, 0);
    long offset = 0;
    while (offset < info.data().byteSize()) {
      Unit.Header h = Unit.readHeader(c, offset);
      Unit u = Unit.of(h, abbrevTable(h.abbrevOffset));
      if (u.isTypeUnit()) typeUnits.put(u.typeSignature, u.typeOffset);
      list.add(u);
      readBases(u);
      offset = h.end;
    }
    return list;
  }

  private AbbrevTable abbrevTable(long offset) {
    return abbrevTables.computeIfAbsent(offset, o -> AbbrevTable.read(abbrevSection, o));
  }

  /** DW_AT_str_offsets_base and DW_AT_addr_base live on the unit's first DIE. */
  private void readBases(Unit u) {
    if (u.firstDie >= u.end) return;
    Die top = read(u, u.firstDie);
    if (top.isNull()) return;
    int i = top.index(Dw.AT_STR_OFFSETS_BASE);
    if (i >= 0) u.strOffsetsBase = top.values[i];
    i = top.index(Dw.AT_ADDR_BASE);
    if (i >= 0) u.addrBase = top.values[i];
  }

  /** The unit holding the DIE at {@code offset}. */
  Unit unitAt(long offset) {
    List<Unit> all = units();
    int lo = 0;
    int hi = all.size() - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      Unit u = all.get(mid);
      if (offset < u.offset) hi = mid - 1;
      else if (offset >= u.end) lo = mid + 1;
      else if (u.contains(offset)) return u;
      else break;
    }
    throw info.bad(String.format("reference to 0x%x, which is not inside any unit's DIEs", offset));
  }

  /** The DIE at an absolute .debug_info offset. */
  Die at(long offset) {
    return read(unitAt(offset), offset);
  }

  /** Reads the entry at {@code offset} of {@code unit}. */
  Die read(Unit unit, long offset) {
    if (offset < unit.firstDie || offset >= unit.end) {
      throw info.bad(String.format("DIE offset 0x%x outside its unit [0x%x, 0x%x)",
          offset, unit.firstDie, unit.end));
    }
    Cursor c = new Cursor(info, offset);
    long code = c.uleb();
    if (code == 0) return new Die(this, unit, offset, null, null, null, c.pos());
    Abbrev a = unit.abbrevs.get(code);
    if (a == null) {
      throw info.bad(String.format("DIE at 0x%x uses abbreviation %d, which the unit's table"
          + " (at .debug_abbrev+0x%x) lacks", offset, code, unit.abbrevOffset));
    }
    int[] forms = a.forms();
    long[] values = new long[forms.length];
    for (int i = 0; i < forms.length; i++) {
      int form = forms[i];
      if (form == Dw.FORM_INDIRECT) {
        if (forms == a.forms()) forms = forms.clone();
        form = forms[i] = (int) c.uleb();
      }
      values[i] = Forms.read(c, unit, form, a.implicit()[i]);
    }
    if (c.pos() > unit.end) throw info.bad(String.format("DIE at 0x%x overruns its unit", offset));
    return new Die(this, unit, offset, a, forms, values, c.pos());
  }

  /** The children of {@code die}, in order (empty when it has none). */
  List<Die> children(Die die) {
    List<Die> out = new ArrayList<>();
    if (!die.hasChildren()) return out;
    long offset = die.end;
    while (true) {
      Die child = read(die.unit, offset);
      if (child.isNull()) return out;
      out.add(child);
      offset = nextSibling(child);
    }
  }

  /** The offset just past {@code die} and all its descendants. */
  long nextSibling(Die die) {
    if (!die.hasChildren()) return die.end;
    int i = die.index(Dw.AT_SIBLING);
    if (i >= 0 && isRefForm(die.forms[i])) {
      long sibling = die.values[i];
      if (sibling > die.offset && sibling <= die.unit.end) return sibling;
    }
    long offset = die.end;
    int depth = 1;
    while (depth > 0) {
      Die d = read(die.unit, offset);
      if (d.isNull()) {
        depth--;
        offset = d.end;
      } else if (d.hasChildren()) {
        depth++;
        offset = d.end;
      } else {
        offset = d.end;
      }
    }
    return offset;
  }

  String stringValue(Die die, int i) {
    long v = die.values[i];
    return switch (die.forms[i]) {
      case Dw.FORM_STRING -> new Cursor(info, v).cstring();
      case Dw.FORM_STRP -> sections.require(".debug_str", "DW_FORM_strp").stringAt(v);
      case Dw.FORM_LINE_STRP ->
          sections.require(".debug_line_str", "DW_FORM_line_strp").stringAt(v);
      case Dw.FORM_STRX, Dw.FORM_STRX1, Dw.FORM_STRX2, Dw.FORM_STRX3, Dw.FORM_STRX4,
           Dw.FORM_GNU_STR_INDEX -> indexedString(die.unit, v);
      default -> null;
    };
  }

  private String indexedString(Unit unit, long index) {
    DebugSection offsets = sections.require(".debug_str_offsets", "DW_FORM_strx");
    // Without DW_AT_str_offsets_base, DWARF 5 units start after the 8- or 16-byte
    // header of the contribution (DWARF 5, 7.26); GNU split DWARF 4 starts at 0.
    long base = unit.strOffsetsBase >= 0 ? unit.strOffsetsBase
        : unit.version >= 5 ? 2L * unit.offsetSize : 0;
    Cursor c = new Cursor(offsets, 0);
    c.seek(checkedIndex(offsets, base, index, unit.offsetSize));
    long strOffset = c.unsigned(unit.offsetSize);
    return sections.require(".debug_str", "DW_FORM_strx").stringAt(strOffset);
  }

  long numberValue(Die die, int i) {
    return switch (die.forms[i]) {
      case Dw.FORM_ADDRX, Dw.FORM_ADDRX1, Dw.FORM_ADDRX2, Dw.FORM_ADDRX3, Dw.FORM_ADDRX4,
           Dw.FORM_GNU_ADDR_INDEX -> indexedAddress(die.unit, die.values[i]);
      default -> die.values[i];
    };
  }

  private long indexedAddress(Unit unit, long index) {
    DebugSection addr = sections.require(".debug_addr", "DW_FORM_addrx");
    long base = unit.addrBase >= 0 ? unit.addrBase : unit.version >= 5 ? 8 : 0;
    Cursor c = new Cursor(addr, 0);
    c.seek(checkedIndex(addr, base, index, unit.addressSize));
    return c.unsigned(unit.addressSize);
  }

  private static long checkedIndex(DebugSection s, long base, long index, int size) {
    long max = s.data().byteSize();
    if (base < 0 || base > max || index < 0 || index > (max - base) / size) {
      throw s.bad(String.format("index %s from base 0x%x is past the end of the section",
          Long.toUnsignedString(index), base));
    }
    return base + index * size;
  }

  long refValue(Die die, int i) {
    int form = die.forms[i];
    if (form == Dw.FORM_REF_SIG8) return typeUnits.getOrDefault(die.values[i], -1L);
    return isRefForm(form) ? die.values[i] : -1;
  }

  /** Reference forms whose value {@link Forms#read} made an absolute .debug_info offset. */
  static boolean isRefForm(int form) {
    return switch (form) {
      case Dw.FORM_REF1, Dw.FORM_REF2, Dw.FORM_REF4, Dw.FORM_REF8, Dw.FORM_REF_UDATA,
           Dw.FORM_REF_ADDR -> true;
      default -> false;
    };
  }

  byte[] blockValue(Die die, int i) {
    int form = die.forms[i];
    Cursor c = new Cursor(info, die.values[i]);
    long length = switch (form) {
      case Dw.FORM_BLOCK1 -> c.u8();
      case Dw.FORM_BLOCK2 -> c.u16();
      case Dw.FORM_BLOCK4 -> c.u32();
      case Dw.FORM_BLOCK, Dw.FORM_EXPRLOC -> c.uleb();
      default -> -1;
    };
    return length < 0 ? null : c.bytes(length);
  }
}
