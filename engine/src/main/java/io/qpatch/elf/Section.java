package io.qpatch.elf;

import java.lang.foreign.MemorySegment;

/**
 * A section header ({@code Elf64_Shdr}, /usr/include/elf.h) with its name resolved and its
 * bytes as a bounds-checked slice of the image. A {@link #SHT_NOBITS} section (.bss) has
 * no bytes in the file: its {@code data} is empty although {@code size} is not.
 *
 * <p>{@code link} and {@code info} are raw: what they mean depends on the type (gABI,
 * "sh_link and sh_info Interpretation"); {@link ElfFile} checks them when it follows them.
 * The data slice is valid until the {@link ElfFile} is closed.
 */
public record Section(
    int index,
    String name,
    int type,
    long flags,
    long addr,
    long offset,
    long size,
    int link,
    int info,
    long addralign,
    long entsize,
    MemorySegment data) {

  public static final int SHT_NULL = 0;
  public static final int SHT_PROGBITS = 1;
  public static final int SHT_SYMTAB = 2;
  public static final int SHT_STRTAB = 3;
  public static final int SHT_RELA = 4;
  public static final int SHT_HASH = 5;
  public static final int SHT_DYNAMIC = 6;
  public static final int SHT_NOTE = 7;
  public static final int SHT_NOBITS = 8;
  public static final int SHT_REL = 9;
  public static final int SHT_DYNSYM = 11;
  public static final int SHT_INIT_ARRAY = 14;
  public static final int SHT_FINI_ARRAY = 15;
  public static final int SHT_PREINIT_ARRAY = 16;
  public static final int SHT_GROUP = 17;
  public static final int SHT_SYMTAB_SHNDX = 18;
  public static final int SHT_RELR = 19;
  public static final int SHT_GNU_HASH = 0x6ffffff6;
  public static final int SHT_GNU_VERDEF = 0x6ffffffd;
  public static final int SHT_GNU_VERNEED = 0x6ffffffe;
  public static final int SHT_GNU_VERSYM = 0x6fffffff;
  /** psABI x86-64, "Section Types": .eh_frame may carry this type. */
  public static final int SHT_X86_64_UNWIND = 0x70000001;

  public static final long SHF_WRITE = 0x1;
  public static final long SHF_ALLOC = 0x2;
  public static final long SHF_EXECINSTR = 0x4;
  public static final long SHF_MERGE = 0x10;
  public static final long SHF_STRINGS = 0x20;
  public static final long SHF_INFO_LINK = 0x40;
  public static final long SHF_LINK_ORDER = 0x80;
  public static final long SHF_GROUP = 0x200;
  public static final long SHF_TLS = 0x400;
  public static final long SHF_COMPRESSED = 0x800;
  public static final long SHF_GNU_RETAIN = 0x200000;
  public static final long SHF_EXCLUDE = 0x80000000L;

  public boolean hasData() {
    return type != SHT_NOBITS && type != SHT_NULL;
  }

  public boolean isAlloc() {
    return (flags & SHF_ALLOC) != 0;
  }

  public boolean isWritable() {
    return (flags & SHF_WRITE) != 0;
  }

  public boolean isExecutable() {
    return (flags & SHF_EXECINSTR) != 0;
  }

  public boolean isTls() {
    return (flags & SHF_TLS) != 0;
  }

  /** "section [3] .text", how messages name a section. */
  public String label() {
    return "section [" + index + "] " + name;
  }

  @Override
  public String toString() {
    return String.format("[%d] %s type=0x%x flags=0x%x addr=0x%x off=0x%x size=0x%x",
        index, name, type, flags, addr, offset, size);
  }
}
