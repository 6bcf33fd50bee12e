package io.qpatch.elf;

/**
 * A symbol table entry ({@code Elf64_Sym}, /usr/include/elf.h), with its name and, for
 * {@code .dynsym}, its GNU symbol version ("GLIBC_2.2.5").
 *
 * <p>{@code sectionIndex} is the real index even when the file stored it through
 * SHN_XINDEX; the reserved values {@link #SHN_UNDEF}, {@link #SHN_ABS} and
 * {@link #SHN_COMMON} keep their meaning. {@code versionHidden} is the VERSYM_HIDDEN bit:
 * a hidden version is not the default one ("sleep@GLIBC_2.2.5" vs "sleep@@GLIBC_2.2.5").
 */
public record Symbol(
    int index,
    String name,
    long value,
    long size,
    int type,
    int bind,
    int visibility,
    int sectionIndex,
    String version,
    boolean versionHidden) {

  public static final int STB_LOCAL = 0;
  public static final int STB_GLOBAL = 1;
  public static final int STB_WEAK = 2;
  public static final int STB_GNU_UNIQUE = 10;

  public static final int STT_NOTYPE = 0;
  public static final int STT_OBJECT = 1;
  public static final int STT_FUNC = 2;
  public static final int STT_SECTION = 3;
  public static final int STT_FILE = 4;
  public static final int STT_COMMON = 5;
  public static final int STT_TLS = 6;
  public static final int STT_GNU_IFUNC = 10;

  public static final int STV_DEFAULT = 0;
  public static final int STV_INTERNAL = 1;
  public static final int STV_HIDDEN = 2;
  public static final int STV_PROTECTED = 3;

  public static final int SHN_UNDEF = 0;
  public static final int SHN_LORESERVE = 0xff00;
  public static final int SHN_ABS = 0xfff1;
  public static final int SHN_COMMON = 0xfff2;
  public static final int SHN_XINDEX = 0xffff;

  public boolean isUndefined() {
    return sectionIndex == SHN_UNDEF;
  }

  public boolean isDefined() {
    return sectionIndex != SHN_UNDEF;
  }

  public boolean isAbsolute() {
    return sectionIndex == SHN_ABS;
  }

  public boolean isCommon() {
    return sectionIndex == SHN_COMMON || type == STT_COMMON;
  }

  public boolean isLocal() {
    return bind == STB_LOCAL;
  }

  public boolean isWeak() {
    return bind == STB_WEAK;
  }

  /** Global, weak or GNU unique binding with default or protected visibility. */
  public boolean isExported() {
    return bind != STB_LOCAL && (visibility == STV_DEFAULT || visibility == STV_PROTECTED);
  }

  public boolean isFunction() {
    return type == STT_FUNC || type == STT_GNU_IFUNC;
  }

  public boolean isTls() {
    return type == STT_TLS;
  }

  /** Whether the version is the default one, the "@@" kind (false when unversioned). */
  public boolean isDefaultVersion() {
    return version != null && !versionHidden && isDefined();
  }

  /**
   * The name as readelf prints it: "sleep@@GLIBC_2.2.5" for a default version,
   * "sleep@GLIBC_2.2.5" for a hidden one or a reference, "sleep" when unversioned. The
   * absolute symbol that marks a version definition ("GLIBC_2.10" in version GLIBC_2.10)
   * is shown bare, as readelf does.
   */
  public String versionedName() {
    if (version == null || version.equals(name)) return name;
    return name + (isDefaultVersion() ? "@@" : "@") + version;
  }

  public static String typeName(int type) {
    return switch (type) {
      case STT_NOTYPE -> "NOTYPE";
      case STT_OBJECT -> "OBJECT";
      case STT_FUNC -> "FUNC";
      case STT_SECTION -> "SECTION";
      case STT_FILE -> "FILE";
      case STT_COMMON -> "COMMON";
      case STT_TLS -> "TLS";
      case STT_GNU_IFUNC -> "IFUNC";
      default -> "type " + type;
    };
  }

  public static String bindName(int bind) {
    return switch (bind) {
      case STB_LOCAL -> "LOCAL";
      case STB_GLOBAL -> "GLOBAL";
      case STB_WEAK -> "WEAK";
      case STB_GNU_UNIQUE -> "UNIQUE";
      default -> "bind " + bind;
    };
  }

  @Override
  public String toString() {
    return String.format("%s value=0x%x size=%d %s %s shndx=%d",
        versionedName(), value, size, typeName(type), bindName(bind), sectionIndex);
  }
}
