package io.qpatch.dwarf;

/**
 * A member of a struct, class or union.
 *
 * @param offset byte offset inside the aggregate (DW_AT_data_member_location), or -1 when
 *     the DWARF gives none this reader understands (bit fields, location expressions)
 * @param embedded Go's DW_AT_go_embedded_field: the member is an embedded field
 */
public record DwarfMember(String name, long offset, DwarfType type, boolean embedded) {}
