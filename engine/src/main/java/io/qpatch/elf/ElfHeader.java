package io.qpatch.elf;

import java.util.Map;

/**
 * The ELF64 file header ({@code Elf64_Ehdr}, /usr/include/elf.h). The counts and the string
 * table index are the real ones: when the file uses extended numbering (e_shnum == 0,
 * e_shstrndx == SHN_XINDEX, e_phnum == PN_XNUM) they come from section header 0 (gABI,
 * "Sections", Table "Section Header Table Entry: Index 0").
 */
public record ElfHeader(
    ElfType type,
    int machine,
    int osAbi,
    long entry,
    long phoff,
    long shoff,
    int flags,
    int phentsize,
    int phnum,
    int shentsize,
    long shnum,
    int shstrndx) {

  public static final int EM_X86_64 = 62;
  static final int EHDR_SIZE = 64;
  static final int SHDR_SIZE = 64;
  static final int PHDR_SIZE = 56;

  private static final Map<Integer, String> MACHINES = Map.ofEntries(
      Map.entry(2, "SPARC"), Map.entry(3, "i386"), Map.entry(8, "MIPS"),
      Map.entry(20, "PowerPC"), Map.entry(21, "PowerPC64"), Map.entry(22, "S/390"),
      Map.entry(40, "ARM"), Map.entry(43, "SPARC V9"), Map.entry(50, "IA-64"),
      Map.entry(62, "x86-64"), Map.entry(183, "AArch64"), Map.entry(243, "RISC-V"),
      Map.entry(247, "BPF"), Map.entry(258, "LoongArch"));

  /** "AArch64 (183)" for messages; just the number for machines we do not name. */
  public static String machineName(int machine) {
    String name = MACHINES.get(machine);
    return name == null ? "unknown (" + machine + ")" : name + " (" + machine + ")";
  }

  /** Parses and validates the header: magic, class, byte order, type and machine. */
  static ElfHeader read(ElfReader r) {
    checkIdent(r);
    r.check(0, EHDR_SIZE, "ELF header");
    int typeCode = r.u16(16, "e_type");
    ElfType type = ElfType.of(typeCode);
    if (type == null) throw r.bad(String.format("unsupported ELF type 0x%x", typeCode));
    int machine = r.u16(18, "e_machine");
    if (machine != EM_X86_64) {
      throw r.bad("ELF for machine " + machineName(machine) + ", qpatch needs x86-64");
    }
    Raw raw = new Raw(r);
    return new ElfHeader(type, machine, r.u8(7, "EI_OSABI"), r.u64(24, "e_entry"),
        raw.phoff, raw.shoff, (int) r.u32(48, "e_flags"), raw.phentsize, raw.phnum,
        raw.shentsize, raw.shnum, raw.shstrndx);
  }

  /** e_ident (gABI "ELF Identification"): we take ELF64, little-endian, version 1 only. */
  private static void checkIdent(ElfReader r) {
    if (r.size() < 4 || r.u32(0, "magic") != 0x464c457fL) throw r.bad("not an ELF file");
    r.check(0, 16, "ELF identification");
    int elfClass = r.u8(4, "EI_CLASS");
    if (elfClass == 1) throw r.bad("32-bit ELF, qpatch needs ELF64");
    if (elfClass != 2) throw r.bad("invalid ELF class " + elfClass + ", qpatch needs ELF64");
    int data = r.u8(5, "EI_DATA");
    if (data == 2) throw r.bad("big-endian ELF, qpatch needs little-endian x86-64");
    if (data != 1) throw r.bad("invalid ELF byte order " + data);
    int version = r.u8(6, "EI_VERSION");
    if (version != 1) throw r.bad("unsupported ELF version " + version);
  }

  /** The table locations and counts, with extended numbering resolved. */
  private static final class Raw {
    final long phoff;
    final long shoff;
    final int phentsize;
    final int shentsize;
    int phnum;
    long shnum;
    int shstrndx;

    Raw(ElfReader r) {
      phoff = r.u64(32, "e_phoff");
      shoff = r.u64(40, "e_shoff");
      phentsize = r.u16(54, "e_phentsize");
      phnum = r.u16(56, "e_phnum");
      shentsize = r.u16(58, "e_shentsize");
      shnum = r.u16(60, "e_shnum");
      shstrndx = r.u16(62, "e_shstrndx");
      if (shoff != 0 && shentsize != SHDR_SIZE) {
        throw r.bad("section header size " + shentsize + ", expected " + SHDR_SIZE);
      }
      if (phnum != 0 && phentsize != PHDR_SIZE) {
        throw r.bad("program header size " + phentsize + ", expected " + PHDR_SIZE);
      }
      if (shoff == 0) {
        shnum = 0;
        shstrndx = 0;
      } else if (shnum == 0 || shstrndx == 0xffff || phnum == 0xffff) {
        readExtended(r);
      }
    }

    /** SHN_XINDEX / PN_XNUM: the real values live in section header 0. */
    private void readExtended(ElfReader r) {
      r.check(shoff, SHDR_SIZE, "section header 0 (extended numbering)");
      if (shnum == 0) shnum = r.u64(shoff + 32, "sh_size of section 0");
      if (shstrndx == 0xffff) shstrndx = toInt(r, r.u32(shoff + 40, "sh_link of section 0"));
      if (phnum == 0xffff) phnum = toInt(r, r.u32(shoff + 44, "sh_info of section 0"));
    }

    private static int toInt(ElfReader r, long value) {
      if (value > Integer.MAX_VALUE) throw r.bad("section 0: extended count " + value + " too big");
      return (int) value;
    }
  }
}
