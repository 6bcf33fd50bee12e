package io.qpatch.dwarf;

/** A base type's DW_AT_encoding (DWARF 5, table 7.11), the ones that matter for values. */
public enum Encoding {
  ADDRESS, BOOLEAN, COMPLEX_FLOAT, FLOAT, SIGNED, SIGNED_CHAR, UNSIGNED, UNSIGNED_CHAR, UTF,
  NONE, OTHER;

  static Encoding of(long ate) {
    return switch ((int) ate) {
      case 0x01 -> ADDRESS;
      case 0x02 -> BOOLEAN;
      case 0x03 -> COMPLEX_FLOAT;
      case 0x04 -> FLOAT;
      case 0x05 -> SIGNED;
      case 0x06 -> SIGNED_CHAR;
      case 0x07 -> UNSIGNED;
      case 0x08 -> UNSIGNED_CHAR;
      case 0x10 -> UTF;
      case 0 -> NONE;
      default -> OTHER;
    };
  }

  public boolean isInteger() {
    return this == SIGNED || this == SIGNED_CHAR || this == UNSIGNED || this == UNSIGNED_CHAR
        || this == UTF || this == ADDRESS;
  }

  public boolean isSigned() {
    return this == SIGNED || this == SIGNED_CHAR;
  }
}
