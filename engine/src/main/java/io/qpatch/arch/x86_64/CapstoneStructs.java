package io.qpatch.arch.x86_64;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.PathElement.sequenceElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.UnionLayout;
import java.lang.invoke.VarHandle;

/**
 * The Capstone 4.0.2 structs qpatch reads, written from {@code /usr/include/capstone/capstone.h}
 * and {@code x86.h} of libcapstone-dev 4.0.2 (Debian 12). Member names are the C names;
 * the anonymous unions of the C headers are unnamed groups here. {@code CapstoneLayoutTest}
 * compiles a C program against the header and compares every size and offset.
 *
 * <p>C enums ({@code x86_reg}, {@code x86_op_type} ...) are {@code int} on the x86-64 psABI;
 * C {@code bool} is one byte.
 */
final class CapstoneStructs {
  private CapstoneStructs() {}

  /** {@code CS_MNEMONIC_SIZE} in capstone.h. */
  static final int MNEMONIC_SIZE = 32;
  static final int OP_STR_SIZE = 160;
  static final int MAX_OPERANDS = 8;

  /** {@code cs_x86_encoding} (x86.h): where the displacement and immediate sit in the bytes. */
  static final class CsX86Encoding {
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
        JAVA_BYTE.withName("modrm_offset"),
        JAVA_BYTE.withName("disp_offset"),
        JAVA_BYTE.withName("disp_size"),
        JAVA_BYTE.withName("imm_offset"),
        JAVA_BYTE.withName("imm_size"));

    private CsX86Encoding() {}
  }

  /** {@code x86_op_mem} (x86.h): segment, base, index, scale and displacement. */
  static final class X86OpMem {
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
        JAVA_INT.withName("segment"),
        JAVA_INT.withName("base"),
        JAVA_INT.withName("index"),
        JAVA_INT.withName("scale"),
        JAVA_LONG.withName("disp"));

    private X86OpMem() {}
  }

  /** {@code cs_x86_op} (x86.h): one explicit operand. */
  static final class CsX86Op {
    static final UnionLayout VALUE = MemoryLayout.unionLayout(
        JAVA_INT.withName("reg"), JAVA_LONG.withName("imm"), X86OpMem.LAYOUT.withName("mem"));

    static final StructLayout LAYOUT = MemoryLayout.structLayout(
        JAVA_INT.withName("type"),
        MemoryLayout.paddingLayout(4),
        VALUE,
        JAVA_BYTE.withName("size"),
        JAVA_BYTE.withName("access"),
        MemoryLayout.paddingLayout(2),
        JAVA_INT.withName("avx_bcast"),
        JAVA_BOOLEAN.withName("avx_zero_opmask"),
        MemoryLayout.paddingLayout(7));

    private CsX86Op() {}
  }

  /** {@code cs_x86} (x86.h): the x86 part of {@code cs_detail}. */
  static final class CsX86 {
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
        MemoryLayout.sequenceLayout(4, JAVA_BYTE).withName("prefix"),
        MemoryLayout.sequenceLayout(4, JAVA_BYTE).withName("opcode"),
        JAVA_BYTE.withName("rex"),
        JAVA_BYTE.withName("addr_size"),
        JAVA_BYTE.withName("modrm"),
        JAVA_BYTE.withName("sib"),
        MemoryLayout.paddingLayout(4),
        JAVA_LONG.withName("disp"),
        JAVA_INT.withName("sib_index"),
        JAVA_BYTE.withName("sib_scale"),
        MemoryLayout.paddingLayout(3),
        JAVA_INT.withName("sib_base"),
        JAVA_INT.withName("xop_cc"),
        JAVA_INT.withName("sse_cc"),
        JAVA_INT.withName("avx_cc"),
        JAVA_BOOLEAN.withName("avx_sae"),
        MemoryLayout.paddingLayout(3),
        JAVA_INT.withName("avx_rm"),
        MemoryLayout.unionLayout(JAVA_LONG.withName("eflags"), JAVA_LONG.withName("fpu_flags")),
        JAVA_BYTE.withName("op_count"),
        MemoryLayout.paddingLayout(7),
        MemoryLayout.sequenceLayout(MAX_OPERANDS, CsX86Op.LAYOUT).withName("operands"),
        CsX86Encoding.LAYOUT.withName("encoding"),
        MemoryLayout.paddingLayout(3));

    private CsX86() {}
  }

  /**
   * {@code cs_detail} (capstone.h). Its per-architecture union is sized by its largest
   * member, {@code cs_arm} (1768 bytes in 4.0.2); only {@code x86} is read.
   */
  static final class CsDetail {
    static final long ARCH_UNION_SIZE = 1768;

    static final StructLayout LAYOUT = MemoryLayout.structLayout(
        MemoryLayout.sequenceLayout(12, JAVA_SHORT).withName("regs_read"),
        JAVA_BYTE.withName("regs_read_count"),
        MemoryLayout.paddingLayout(1),
        MemoryLayout.sequenceLayout(20, JAVA_SHORT).withName("regs_write"),
        JAVA_BYTE.withName("regs_write_count"),
        MemoryLayout.sequenceLayout(8, JAVA_BYTE).withName("groups"),
        JAVA_BYTE.withName("groups_count"),
        MemoryLayout.paddingLayout(4),
        MemoryLayout.unionLayout(
            CsX86.LAYOUT.withName("x86"), MemoryLayout.paddingLayout(ARCH_UNION_SIZE)));

    static final VarHandle REGS_READ =
        LAYOUT.varHandle(groupElement("regs_read"), sequenceElement());
    static final VarHandle REGS_READ_COUNT = LAYOUT.varHandle(groupElement("regs_read_count"));
    static final VarHandle REGS_WRITE =
        LAYOUT.varHandle(groupElement("regs_write"), sequenceElement());
    static final VarHandle REGS_WRITE_COUNT = LAYOUT.varHandle(groupElement("regs_write_count"));
    static final VarHandle GROUPS =
        LAYOUT.varHandle(groupElement("groups"), sequenceElement());
    static final VarHandle GROUPS_COUNT = LAYOUT.varHandle(groupElement("groups_count"));

    private static final long X86 = LAYOUT.byteOffset(unionX86());
    static final VarHandle OP_COUNT = x86Handle(groupElement("op_count"));
    static final VarHandle OP_TYPE = opHandle(groupElement("type"));
    static final VarHandle OP_REG = opHandle(unnamed(), groupElement("reg"));
    static final VarHandle OP_IMM = opHandle(unnamed(), groupElement("imm"));
    static final VarHandle OP_MEM_SEGMENT = opMemHandle("segment");
    static final VarHandle OP_MEM_BASE = opMemHandle("base");
    static final VarHandle OP_MEM_INDEX = opMemHandle("index");
    static final VarHandle OP_MEM_SCALE = opMemHandle("scale");
    static final VarHandle OP_MEM_DISP = opMemHandle("disp");
    static final VarHandle OP_SIZE = opHandle(groupElement("size"));
    static final VarHandle OP_ACCESS = opHandle(groupElement("access"));
    static final VarHandle DISP_OFFSET = encodingHandle("disp_offset");
    static final VarHandle DISP_SIZE = encodingHandle("disp_size");
    static final VarHandle IMM_OFFSET = encodingHandle("imm_offset");
    static final VarHandle IMM_SIZE = encodingHandle("imm_size");

    private CsDetail() {}

    /** Offset of {@code x86} inside {@code cs_detail}: the union is the last, unnamed member. */
    static long x86Offset() {
      return X86;
    }

    private static MemoryLayout.PathElement unionX86() {
      return groupElement(LAYOUT.memberLayouts().size() - 1L);
    }

    private static MemoryLayout.PathElement unnamed() {
      return groupElement(2L);
    }

    private static VarHandle x86Handle(MemoryLayout.PathElement... path) {
      MemoryLayout.PathElement[] full = new MemoryLayout.PathElement[path.length + 2];
      full[0] = unionX86();
      full[1] = groupElement("x86");
      System.arraycopy(path, 0, full, 2, path.length);
      return LAYOUT.varHandle(full);
    }

    private static VarHandle opHandle(MemoryLayout.PathElement... path) {
      MemoryLayout.PathElement[] full = new MemoryLayout.PathElement[path.length + 2];
      full[0] = groupElement("operands");
      full[1] = sequenceElement();
      System.arraycopy(path, 0, full, 2, path.length);
      return x86Handle(full);
    }

    private static VarHandle opMemHandle(String field) {
      return opHandle(unnamed(), groupElement("mem"), groupElement(field));
    }

    private static VarHandle encodingHandle(String field) {
      return x86Handle(groupElement("encoding"), groupElement(field));
    }
  }

  /** {@code cs_insn} (capstone.h): one decoded instruction. */
  static final class CsInsn {
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
        JAVA_INT.withName("id"),
        MemoryLayout.paddingLayout(4),
        JAVA_LONG.withName("address"),
        JAVA_SHORT.withName("size"),
        MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("bytes"),
        MemoryLayout.sequenceLayout(MNEMONIC_SIZE, JAVA_BYTE).withName("mnemonic"),
        MemoryLayout.sequenceLayout(OP_STR_SIZE, JAVA_BYTE).withName("op_str"),
        MemoryLayout.paddingLayout(6),
        ADDRESS.withName("detail"));

    static final VarHandle ID = LAYOUT.varHandle(groupElement("id"));
    static final VarHandle ADDRESS_ = LAYOUT.varHandle(groupElement("address"));
    static final VarHandle SIZE = LAYOUT.varHandle(groupElement("size"));
    static final VarHandle DETAIL = LAYOUT.varHandle(groupElement("detail"));
    static final long BYTES = LAYOUT.byteOffset(groupElement("bytes"));
    static final long MNEMONIC = LAYOUT.byteOffset(groupElement("mnemonic"));
    static final long OP_STR = LAYOUT.byteOffset(groupElement("op_str"));

    private CsInsn() {}
  }
}
