package io.qpatch.dwarf;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The abbreviation declarations starting at one offset of .debug_abbrev, which a unit
 * header names. Codes are usually dense from 1, so they are kept in an array, with a map
 * for the rare sparse table.
 */
final class AbbrevTable {
  private static final int DENSE_LIMIT = 1 << 16;

  private final Abbrev[] dense;
  private final Map<Long, Abbrev> sparse;

  private AbbrevTable(Abbrev[] dense, Map<Long, Abbrev> sparse) {
    this.dense = dense;
    this.sparse = sparse;
  }

  static AbbrevTable read(DebugSection section, long offset) {
    Cursor c = new Cursor(section, offset);
    List<Abbrev> list = new ArrayList<>();
    long maxCode = 0;
    while (true) {
      long code = c.uleb();
      if (code == 0) break;
      Abbrev a = readOne(c, code);
      list.add(a);
      maxCode = Math.max(maxCode, code);
    }
    return index(list, maxCode);
  }

  private static Abbrev readOne(Cursor c, long code) {
    int tag = (int) c.uleb();
    boolean children = c.u8() != 0;
    List<long[]> specs = new ArrayList<>();
    while (true) {
      long attr = c.uleb();
      long form = c.uleb();
      if (attr == 0 && form == 0) break;
      long implicit = form == Dw.FORM_IMPLICIT_CONST ? c.sleb() : 0;
      specs.add(new long[] {attr, form, implicit});
    }
    int n = specs.size();
    int[] attrs = new int[n];
    int[] forms = new int[n];
    long[] implicit = new long[n];
    for (int i = 0; i < n; i++) {
      attrs[i] = (int) specs.get(i)[0];
      forms[i] = (int) specs.get(i)[1];
      implicit[i] = specs.get(i)[2];
    }
    return new Abbrev(code, tag, children, attrs, forms, implicit);
  }

  private static AbbrevTable index(List<Abbrev> list, long maxCode) {
    if (maxCode < DENSE_LIMIT) {
      Abbrev[] dense = new Abbrev[(int) maxCode + 1];
      for (Abbrev a : list) dense[(int) a.code()] = a;
      return new AbbrevTable(dense, null);
    }
    Map<Long, Abbrev> map = new HashMap<>();
    for (Abbrev a : list) map.put(a.code(), a);
    return new AbbrevTable(null, map);
  }

  /** The declaration for {@code code}, or null when the table has none. */
  Abbrev get(long code) {
    if (dense != null) return code > 0 && code < dense.length ? dense[(int) code] : null;
    return sparse.get(code);
  }
}
