package io.qpatch.arch.x86_64;

/**
 * The sixteen 64-bit general-purpose registers in encoding order: the low three bits go
 * in ModRM/opcode, the fourth in REX.B/R (Intel SDM vol. 2, table 2-2 and 2.2.1).
 */
public enum Gpr {
  RAX("eax"), RCX("ecx"), RDX("edx"), RBX("ebx"),
  RSP("esp"), RBP("ebp"), RSI("esi"), RDI("edi"),
  R8("r8d"), R9("r9d"), R10("r10d"), R11("r11d"),
  R12("r12d"), R13("r13d"), R14("r14d"), R15("r15d");

  private final String name32;

  Gpr(String name32) {
    this.name32 = name32;
  }

  /** The 4-bit register number. */
  public int code() {
    return ordinal();
  }

  /** True for r8..r15, which need a REX bit. */
  public boolean isExtended() {
    return ordinal() >= 8;
  }

  /** Low three bits, as placed in ModRM.reg, ModRM.rm or the opcode. */
  int low3() {
    return ordinal() & 7;
  }

  /** Capstone's (and Intel's) name: "rax", "r12". */
  public String name64() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The 32-bit view's name: "eax", "r12d". */
  public String name32() {
    return name32;
  }

  /** The register whose 64-bit name is {@code name}, or null. */
  public static Gpr from64(String name) {
    for (Gpr r : values()) if (r.name64().equals(name)) return r;
    return null;
  }

  /** The register whose 32-bit view is named {@code name}, or null. */
  public static Gpr from32(String name) {
    for (Gpr r : values()) if (r.name32.equals(name)) return r;
    return null;
  }
}
