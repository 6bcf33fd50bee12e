package io.qpatch.dwarf;

/**
 * Go's reflect.Kind, the value of the DW_AT_go_kind attribute Go's linker puts on every
 * type it describes (cmd/link/internal/ld/dwarf.go writes {@code kind & abi.KindMask}; the
 * numbering is internal/abi/type.go's, identical to reflect/type.go's since Go 1.0).
 */
public enum GoKind {
  INVALID, BOOL, INT, INT8, INT16, INT32, INT64, UINT, UINT8, UINT16, UINT32, UINT64, UINTPTR,
  FLOAT32, FLOAT64, COMPLEX64, COMPLEX128, ARRAY, CHAN, FUNC, INTERFACE, MAP, POINTER, SLICE,
  STRING, STRUCT, UNSAFE_POINTER;

  /** The kind numbered {@code value}, or INVALID for a value no Go version uses. */
  public static GoKind of(long value) {
    GoKind[] all = values();
    return value > 0 && value < all.length ? all[(int) value] : INVALID;
  }
}
