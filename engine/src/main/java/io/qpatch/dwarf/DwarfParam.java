package io.qpatch.dwarf;

/**
 * A formal parameter of a function.
 *
 * @param name the parameter's name; Go names unnamed results "~r0", "~r1"...
 * @param type its type, {@link DwarfType.Kind#UNKNOWN} when the DWARF gives none
 * @param output true for Go results: the compiler marks them DW_AT_variable_parameter
 *     (cmd/internal/dwarf/dwarf.go writes {@code Var.IsReturnValue} there)
 */
public record DwarfParam(String name, DwarfType type, boolean output) {}
