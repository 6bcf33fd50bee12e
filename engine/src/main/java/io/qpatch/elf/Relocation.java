package io.qpatch.elf;

/**
 * One {@code Elf64_Rela} entry (/usr/include/elf.h): r_info split into ELF64_R_SYM (high 32
 * bits) and ELF64_R_TYPE (low 32 bits). {@code offset} is relative to the target section
 * in a relocatable file and a virtual address in an executable or shared object (gABI
 * "Relocation").
 */
public record Relocation(long offset, int type, int symbolIndex, long addend) {

  public String typeName() {
    return RelocationType.name(type);
  }

  @Override
  public String toString() {
    return String.format("0x%x %s sym=%d addend=%d", offset, typeName(), symbolIndex, addend);
  }
}
