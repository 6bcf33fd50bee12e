package io.qpatch.elf;

import java.lang.foreign.MemorySegment;

/**
 * A program header ({@code Elf64_Phdr}, /usr/include/elf.h): one segment. {@code data} is
 * the bounds-checked slice of the {@code filesz} bytes the segment has in the file.
 */
public record ProgramHeader(
    int index,
    int type,
    int flags,
    long offset,
    long vaddr,
    long paddr,
    long filesz,
    long memsz,
    long align,
    MemorySegment data) {

  public static final int PT_NULL = 0;
  public static final int PT_LOAD = 1;
  public static final int PT_DYNAMIC = 2;
  public static final int PT_INTERP = 3;
  public static final int PT_NOTE = 4;
  public static final int PT_SHLIB = 5;
  public static final int PT_PHDR = 6;
  public static final int PT_TLS = 7;
  public static final int PT_GNU_EH_FRAME = 0x6474e550;
  public static final int PT_GNU_STACK = 0x6474e551;
  public static final int PT_GNU_RELRO = 0x6474e552;
  public static final int PT_GNU_PROPERTY = 0x6474e553;

  public static final int PF_X = 1;
  public static final int PF_W = 2;
  public static final int PF_R = 4;

  public boolean isLoad() {
    return type == PT_LOAD;
  }

  public boolean isExecutable() {
    return (flags & PF_X) != 0;
  }

  public boolean isWritable() {
    return (flags & PF_W) != 0;
  }

  /** Whether {@code address} lies in [vaddr, vaddr+memsz). */
  public boolean containsAddress(long address) {
    return Long.compareUnsigned(address - vaddr, memsz) < 0;
  }

  /** Whether the file offset lies in [offset, offset+filesz). */
  public boolean containsOffset(long fileOffset) {
    return Long.compareUnsigned(fileOffset - offset, filesz) < 0;
  }

  @Override
  public String toString() {
    return String.format("[%d] type=0x%x flags=%d off=0x%x vaddr=0x%x filesz=0x%x memsz=0x%x",
        index, type, flags, offset, vaddr, filesz, memsz);
  }
}
