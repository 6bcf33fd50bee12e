package io.qpatch.dwarf;

/**
 * One abbreviation declaration (DWARF 5, 7.5.3): the tag, whether children follow, and
 * the attribute/form pairs every DIE using it carries, in order. {@code implicit} holds
 * the value of each DW_FORM_implicit_const pair (0 for other forms).
 */
record Abbrev(long code, int tag, boolean hasChildren, int[] attrs, int[] forms, long[] implicit) {
  int attributeCount() {
    return attrs.length;
  }
}
