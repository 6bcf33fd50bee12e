package io.qpatch.elf;

/**
 * x86-64 relocation types, {@code r_type} of {@code Elf64_Rela}. Numbers and field widths
 * from the System V x86-64 psABI, section 4.4 "Relocation", Table 4.9 (the CODE_4/5/6 APX
 * types 43-51 from psABI 1.0 of 2024, 39-40 are the deprecated MPX "_BND" forms), and the
 * GNU vtable types from binutils include/elf/x86-64.h.
 */
public final class RelocationType {
  public static final int R_X86_64_NONE = 0;
  public static final int R_X86_64_64 = 1;
  public static final int R_X86_64_PC32 = 2;
  public static final int R_X86_64_GOT32 = 3;
  public static final int R_X86_64_PLT32 = 4;
  public static final int R_X86_64_COPY = 5;
  public static final int R_X86_64_GLOB_DAT = 6;
  public static final int R_X86_64_JUMP_SLOT = 7;
  public static final int R_X86_64_RELATIVE = 8;
  public static final int R_X86_64_GOTPCREL = 9;
  public static final int R_X86_64_32 = 10;
  public static final int R_X86_64_32S = 11;
  public static final int R_X86_64_16 = 12;
  public static final int R_X86_64_PC16 = 13;
  public static final int R_X86_64_8 = 14;
  public static final int R_X86_64_PC8 = 15;
  public static final int R_X86_64_DTPMOD64 = 16;
  public static final int R_X86_64_DTPOFF64 = 17;
  public static final int R_X86_64_TPOFF64 = 18;
  public static final int R_X86_64_TLSGD = 19;
  public static final int R_X86_64_TLSLD = 20;
  public static final int R_X86_64_DTPOFF32 = 21;
  public static final int R_X86_64_GOTTPOFF = 22;
  public static final int R_X86_64_TPOFF32 = 23;
  public static final int R_X86_64_PC64 = 24;
  public static final int R_X86_64_GOTOFF64 = 25;
  public static final int R_X86_64_GOTPC32 = 26;
  public static final int R_X86_64_GOT64 = 27;
  public static final int R_X86_64_GOTPCREL64 = 28;
  public static final int R_X86_64_GOTPC64 = 29;
  public static final int R_X86_64_GOTPLT64 = 30;
  public static final int R_X86_64_PLTOFF64 = 31;
  public static final int R_X86_64_SIZE32 = 32;
  public static final int R_X86_64_SIZE64 = 33;
  public static final int R_X86_64_GOTPC32_TLSDESC = 34;
  public static final int R_X86_64_TLSDESC_CALL = 35;
  public static final int R_X86_64_TLSDESC = 36;
  public static final int R_X86_64_IRELATIVE = 37;
  public static final int R_X86_64_RELATIVE64 = 38;
  public static final int R_X86_64_PC32_BND = 39;
  public static final int R_X86_64_PLT32_BND = 40;
  public static final int R_X86_64_GOTPCRELX = 41;
  public static final int R_X86_64_REX_GOTPCRELX = 42;
  public static final int R_X86_64_CODE_4_GOTPCRELX = 43;
  public static final int R_X86_64_CODE_4_GOTTPOFF = 44;
  public static final int R_X86_64_CODE_4_GOTPC32_TLSDESC = 45;
  public static final int R_X86_64_CODE_5_GOTPCRELX = 46;
  public static final int R_X86_64_CODE_5_GOTTPOFF = 47;
  public static final int R_X86_64_CODE_5_GOTPC32_TLSDESC = 48;
  public static final int R_X86_64_CODE_6_GOTPCRELX = 49;
  public static final int R_X86_64_CODE_6_GOTTPOFF = 50;
  public static final int R_X86_64_CODE_6_GOTPC32_TLSDESC = 51;
  public static final int R_X86_64_GNU_VTINHERIT = 250;
  public static final int R_X86_64_GNU_VTENTRY = 251;

  private RelocationType() {}

  /** "R_X86_64_PC32", or "R_X86_64_<unknown 99>" for a number the psABI does not define. */
  public static String name(int type) {
    return switch (type) {
      case R_X86_64_NONE -> "R_X86_64_NONE";
      case R_X86_64_64 -> "R_X86_64_64";
      case R_X86_64_PC32 -> "R_X86_64_PC32";
      case R_X86_64_GOT32 -> "R_X86_64_GOT32";
      case R_X86_64_PLT32 -> "R_X86_64_PLT32";
      case R_X86_64_COPY -> "R_X86_64_COPY";
      case R_X86_64_GLOB_DAT -> "R_X86_64_GLOB_DAT";
      case R_X86_64_JUMP_SLOT -> "R_X86_64_JUMP_SLOT";
      case R_X86_64_RELATIVE -> "R_X86_64_RELATIVE";
      case R_X86_64_GOTPCREL -> "R_X86_64_GOTPCREL";
      case R_X86_64_32 -> "R_X86_64_32";
      case R_X86_64_32S -> "R_X86_64_32S";
      case R_X86_64_16 -> "R_X86_64_16";
      case R_X86_64_PC16 -> "R_X86_64_PC16";
      case R_X86_64_8 -> "R_X86_64_8";
      case R_X86_64_PC8 -> "R_X86_64_PC8";
      case R_X86_64_DTPMOD64 -> "R_X86_64_DTPMOD64";
      case R_X86_64_DTPOFF64 -> "R_X86_64_DTPOFF64";
      case R_X86_64_TPOFF64 -> "R_X86_64_TPOFF64";
      case R_X86_64_TLSGD -> "R_X86_64_TLSGD";
      case R_X86_64_TLSLD -> "R_X86_64_TLSLD";
      case R_X86_64_DTPOFF32 -> "R_X86_64_DTPOFF32";
      case R_X86_64_GOTTPOFF -> "R_X86_64_GOTTPOFF";
      case R_X86_64_TPOFF32 -> "R_X86_64_TPOFF32";
      case R_X86_64_PC64 -> "R_X86_64_PC64";
      case R_X86_64_GOTOFF64 -> "R_X86_64_GOTOFF64";
      case R_X86_64_GOTPC32 -> "R_X86_64_GOTPC32";
      case R_X86_64_GOT64 -> "R_X86_64_GOT64";
      case R_X86_64_GOTPCREL64 -> "R_X86_64_GOTPCREL64";
      case R_X86_64_GOTPC64 -> "R_X86_64_GOTPC64";
      case R_X86_64_GOTPLT64 -> "R_X86_64_GOTPLT64";
      case R_X86_64_PLTOFF64 -> "R_X86_64_PLTOFF64";
      case R_X86_64_SIZE32 -> "R_X86_64_SIZE32";
      case R_X86_64_SIZE64 -> "R_X86_64_SIZE64";
      case R_X86_64_GOTPC32_TLSDESC -> "R_X86_64_GOTPC32_TLSDESC";
      case R_X86_64_TLSDESC_CALL -> "R_X86_64_TLSDESC_CALL";
      case R_X86_64_TLSDESC -> "R_X86_64_TLSDESC";
      case R_X86_64_IRELATIVE -> "R_X86_64_IRELATIVE";
      case R_X86_64_RELATIVE64 -> "R_X86_64_RELATIVE64";
      case R_X86_64_PC32_BND -> "R_X86_64_PC32_BND";
      case R_X86_64_PLT32_BND -> "R_X86_64_PLT32_BND";
      case R_X86_64_GOTPCRELX -> "R_X86_64_GOTPCRELX";
      case R_X86_64_REX_GOTPCRELX -> "R_X86_64_REX_GOTPCRELX";
      case R_X86_64_CODE_4_GOTPCRELX -> "R_X86_64_CODE_4_GOTPCRELX";
      case R_X86_64_CODE_4_GOTTPOFF -> "R_X86_64_CODE_4_GOTTPOFF";
      case R_X86_64_CODE_4_GOTPC32_TLSDESC -> "R_X86_64_CODE_4_GOTPC32_TLSDESC";
      case R_X86_64_CODE_5_GOTPCRELX -> "R_X86_64_CODE_5_GOTPCRELX";
      case R_X86_64_CODE_5_GOTTPOFF -> "R_X86_64_CODE_5_GOTTPOFF";
      case R_X86_64_CODE_5_GOTPC32_TLSDESC -> "R_X86_64_CODE_5_GOTPC32_TLSDESC";
      case R_X86_64_CODE_6_GOTPCRELX -> "R_X86_64_CODE_6_GOTPCRELX";
      case R_X86_64_CODE_6_GOTTPOFF -> "R_X86_64_CODE_6_GOTTPOFF";
      case R_X86_64_CODE_6_GOTPC32_TLSDESC -> "R_X86_64_CODE_6_GOTPC32_TLSDESC";
      case R_X86_64_GNU_VTINHERIT -> "R_X86_64_GNU_VTINHERIT";
      case R_X86_64_GNU_VTENTRY -> "R_X86_64_GNU_VTENTRY";
      default -> "R_X86_64_<unknown " + Integer.toUnsignedString(type) + ">";
    };
  }

  /**
   * Bytes the relocation writes at r_offset (the psABI field word8/16/32/64; TLSDESC
   * fills two words). 0 for types that write nothing in place (NONE, COPY, TLSDESC_CALL,
   * the vtable markers) and for unknown types.
   */
  public static int width(int type) {
    return switch (type) {
      case R_X86_64_8, R_X86_64_PC8 -> 1;
      case R_X86_64_16, R_X86_64_PC16 -> 2;
      case R_X86_64_PC32, R_X86_64_GOT32, R_X86_64_PLT32, R_X86_64_GOTPCREL, R_X86_64_32,
          R_X86_64_32S, R_X86_64_TLSGD, R_X86_64_TLSLD, R_X86_64_DTPOFF32, R_X86_64_GOTTPOFF,
          R_X86_64_TPOFF32, R_X86_64_GOTPC32, R_X86_64_SIZE32, R_X86_64_GOTPC32_TLSDESC,
          R_X86_64_PC32_BND, R_X86_64_PLT32_BND, R_X86_64_GOTPCRELX, R_X86_64_REX_GOTPCRELX,
          R_X86_64_CODE_4_GOTPCRELX, R_X86_64_CODE_4_GOTTPOFF, R_X86_64_CODE_4_GOTPC32_TLSDESC,
          R_X86_64_CODE_5_GOTPCRELX, R_X86_64_CODE_5_GOTTPOFF, R_X86_64_CODE_5_GOTPC32_TLSDESC,
          R_X86_64_CODE_6_GOTPCRELX, R_X86_64_CODE_6_GOTTPOFF, R_X86_64_CODE_6_GOTPC32_TLSDESC -> 4;
      case R_X86_64_64, R_X86_64_GLOB_DAT, R_X86_64_JUMP_SLOT, R_X86_64_RELATIVE,
          R_X86_64_DTPMOD64, R_X86_64_DTPOFF64, R_X86_64_TPOFF64, R_X86_64_PC64,
          R_X86_64_GOTOFF64, R_X86_64_GOT64, R_X86_64_GOTPCREL64, R_X86_64_GOTPC64,
          R_X86_64_GOTPLT64, R_X86_64_PLTOFF64, R_X86_64_SIZE64, R_X86_64_IRELATIVE,
          R_X86_64_RELATIVE64 -> 8;
      case R_X86_64_TLSDESC -> 16;
      default -> 0;
    };
  }
}
