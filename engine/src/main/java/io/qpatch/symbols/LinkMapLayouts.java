package io.qpatch.symbols;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The dynamic linker's debugger interface as it lies in the target's memory (x86-64, LP64).
 * Pointers in the target are plain 64-bit values here: they are addresses in another
 * process, never dereferenced locally.
 */
final class LinkMapLayouts {
  private LinkMapLayouts() {}

  /** {@code Elf64_Dyn}, /usr/include/elf.h: d_tag and the d_val/d_ptr union. */
  static final StructLayout DYN = MemoryLayout.structLayout(
      ValueLayout.JAVA_LONG.withName("d_tag"),
      ValueLayout.JAVA_LONG.withName("d_val"));

  /** {@code struct r_debug}, /usr/include/link.h (glibc; r_version 1 layout). */
  static final StructLayout R_DEBUG = MemoryLayout.structLayout(
      ValueLayout.JAVA_INT.withName("r_version"),
      MemoryLayout.paddingLayout(4),
      ValueLayout.JAVA_LONG.withName("r_map"),
      ValueLayout.JAVA_LONG.withName("r_brk"),
      ValueLayout.JAVA_INT.withName("r_state"),
      MemoryLayout.paddingLayout(4),
      ValueLayout.JAVA_LONG.withName("r_ldbase"));

  /**
   * The public head of {@code struct link_map}, /usr/include/link.h; glibc's private
   * fields follow it and are not read.
   */
  static final StructLayout LINK_MAP = MemoryLayout.structLayout(
      ValueLayout.JAVA_LONG.withName("l_addr"),
      ValueLayout.JAVA_LONG.withName("l_name"),
      ValueLayout.JAVA_LONG.withName("l_ld"),
      ValueLayout.JAVA_LONG.withName("l_next"),
      ValueLayout.JAVA_LONG.withName("l_prev"));

  /** DT_NULL ends the dynamic array; DT_DEBUG holds &_r_debug once ld.so has run (elf.h). */
  static final long DT_NULL = 0;
  static final long DT_DEBUG = 21;

  static final VarHandle D_TAG = DYN.varHandle(groupElement("d_tag"));
  static final VarHandle D_VAL = DYN.varHandle(groupElement("d_val"));
  static final VarHandle R_MAP = R_DEBUG.varHandle(groupElement("r_map"));
  static final VarHandle L_ADDR = LINK_MAP.varHandle(groupElement("l_addr"));
  static final VarHandle L_LD = LINK_MAP.varHandle(groupElement("l_ld"));
  static final VarHandle L_NEXT = LINK_MAP.varHandle(groupElement("l_next"));

  /**
   * {@code bytes} in a segment aligned for the layouts above (a heap segment over a byte[]
   * only guarantees byte alignment, and the var handles check alignment).
   */
  static MemorySegment aligned(byte[] bytes) {
    MemorySegment segment = MemorySegment.ofArray(new long[(bytes.length + 7) / 8]);
    MemorySegment.copy(MemorySegment.ofArray(bytes), 0, segment, 0, bytes.length);
    return segment.asSlice(0, bytes.length);
  }
}
