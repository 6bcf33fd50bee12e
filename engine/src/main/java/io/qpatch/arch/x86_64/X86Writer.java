package io.qpatch.arch.x86_64;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Emits x86-64 machine code into a growing byte buffer. "Where the bytes go" (the
 * buffer, at {@link #offset()}) is kept apart from "the address they will run at"
 * ({@link #pc()}): every relative encoding is computed from {@code pc}, so the bytes are
 * correct only once copied to {@link #basePc()} in the target.
 *
 * <p>Emitters are named for what they emit (after frida-gum's {@code gumx86writer}).
 * Encodings are from the Intel SDM vol. 2; each emitter shows its bytes. Not
 * thread-safe.
 */
public final class X86Writer {
  /** {@code ff 25 00000000} + 8-byte address. */
  public static final int JMP_ABS_INDIRECT_SIZE = 14;
  /** {@code e9} + rel32. */
  public static final int JMP_REL32_SIZE = 5;

  private final long basePc;
  private byte[] buf = new byte[64];
  private int size;
  private final List<Fixup> fixups = new ArrayList<>();

  /** A position in the code, bound with {@link #putLabel}; forward references are patched. */
  public static final class Label {
    private int offset = -1;

    public boolean isBound() {
      return offset >= 0;
    }
  }

  private record Fixup(Label label, int rel8At) {}

  /** A writer whose first byte will run at {@code pc}. */
  public X86Writer(long pc) {
    this.basePc = pc;
  }

  /** The address the first byte will run at. */
  public long basePc() {
    return basePc;
  }

  /** The address the next byte will run at. */
  public long pc() {
    return basePc + size;
  }

  /** How many bytes have been written. */
  public int offset() {
    return size;
  }

  /**
   * A copy of the bytes written so far.
   *
   * @throws IllegalStateException if a label that was jumped to was never bound
   */
  public byte[] bytes() {
    if (!fixups.isEmpty()) throw new IllegalStateException("a jump targets a label never bound");
    return Arrays.copyOf(buf, size);
  }

  /**
   * True when a 5-byte {@code jmp rel32}/{@code call rel32} placed at {@code from} reaches
   * {@code to}: rel32 counts from the end of the instruction.
   */
  public static boolean canReachRel32(long from, long to) {
    return fitsInt32(to - (from + JMP_REL32_SIZE));
  }

  static boolean fitsInt32(long value) {
    return value == (int) value;
  }

  // ---- raw bytes ----

  public void putBytes(byte... bytes) {
    ensure(bytes.length);
    System.arraycopy(bytes, 0, buf, size, bytes.length);
    size += bytes.length;
  }

  public void putU8(int value) {
    ensure(1);
    buf[size++] = (byte) value;
  }

  public void putS32(int value) {
    for (int i = 0; i < 4; i++) putU8(value >>> (8 * i));
  }

  public void putU64(long value) {
    for (int i = 0; i < 8; i++) putU8((int) (value >>> (8 * i)));
  }

  private void ensure(int more) {
    if (size + more > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
  }

  // ---- branches ----

  /** {@code e9 rel32}: jmp to {@code target}, which must be within rel32 reach. */
  public void putJmpRel32(long target) {
    putU8(0xe9);
    putRel32(target, pc() + 4);
  }

  /** {@code e8 rel32}: call {@code target}, which must be within rel32 reach. */
  public void putCallRel32(long target) {
    putU8(0xe8);
    putRel32(target, pc() + 4);
  }

  /** {@code 0f 80+cc rel32}: jcc to {@code target}, which must be within rel32 reach. */
  public void putJccRel32(Cond cond, long target) {
    putBytes((byte) 0x0f, (byte) (0x80 + cond.code()));
    putRel32(target, pc() + 4);
  }

  /** {@code eb rel8}: short jmp to {@code target}, within -128..127 of the next pc. */
  public void putJmpShort(long target) {
    putU8(0xeb);
    putRel8(target - (pc() + 1));
  }

  /** {@code 70+cc rel8}: short jcc to {@code target}, within -128..127 of the next pc. */
  public void putJccShort(Cond cond, long target) {
    putU8(0x70 + cond.code());
    putRel8(target - (pc() + 1));
  }

  /** {@code ff 25 00000000; .quad target}: jmp through the 8 bytes that follow. */
  public void putJmpAbsIndirect(long target) {
    putBytes((byte) 0xff, (byte) 0x25);
    putS32(0);
    putU64(target);
  }

  /**
   * {@code ff 15 02000000; eb 08; .quad target}: call through the 8 bytes after a short
   * jmp that steps over them. The pushed return address is the {@code eb 08}. No
   * register is touched.
   */
  public void putCallAbsIndirect(long target) {
    putBytes((byte) 0xff, (byte) 0x15);
    putS32(2);
    putBytes((byte) 0xeb, (byte) 0x08);
    putU64(target);
  }

  /** jmp to {@code target}: {@code jmp rel32} when it reaches, else the 14-byte absolute form. */
  public void putJmpAddress(long target) {
    if (canReachRel32(pc(), target)) putJmpRel32(target);
    else putJmpAbsIndirect(target);
  }

  /** call {@code target}: {@code call rel32} when it reaches, else {@link #putCallAbsIndirect}. */
  public void putCallAddress(long target) {
    if (canReachRel32(pc(), target)) putCallRel32(target);
    else putCallAbsIndirect(target);
  }

  private void putRel32(long target, long next) {
    long rel = target - next;
    if (!fitsInt32(rel)) {
      throw new IllegalArgumentException(String.format(
          "0x%x is out of rel32 reach from 0x%x", target, next));
    }
    putS32((int) rel);
  }

  private void putRel8(long rel) {
    if (rel != (byte) rel) throw new IllegalArgumentException("rel8 out of range: " + rel);
    putU8((int) rel);
  }

  // ---- labels ----

  public Label newLabel() {
    return new Label();
  }

  /** Binds {@code label} to {@link #pc()} and patches the short jumps already aimed at it. */
  public void putLabel(Label label) {
    if (label.isBound()) throw new IllegalStateException("label bound twice");
    label.offset = size;
    fixups.removeIf(f -> {
      if (f.label() != label) return false;
      int rel = label.offset - (f.rel8At() + 1);
      if (rel != (byte) rel) throw new IllegalArgumentException("rel8 out of range: " + rel);
      buf[f.rel8At()] = (byte) rel;
      return true;
    });
  }

  /** {@code eb rel8} to {@code label}. */
  public void putJmpShortLabel(Label label) {
    putU8(0xeb);
    putRel8To(label);
  }

  /** {@code 70+cc rel8} to {@code label}. */
  public void putJccShortLabel(Cond cond, Label label) {
    putU8(0x70 + cond.code());
    putRel8To(label);
  }

  /** A rel8 field aimed at {@code label}, for opcodes this class has no emitter for. */
  public void putRel8To(Label label) {
    if (label.isBound()) {
      putRel8(label.offset - (size + 1));
    } else {
      fixups.add(new Fixup(label, size));
      putU8(0);
    }
  }

  // ---- moves, stack, misc ----

  /** {@code REX.W(+B) b8+r imm64}: movabs reg, imm64. */
  public void putMovRegImm64(Gpr reg, long imm) {
    putU8(0x48 | (reg.isExtended() ? 1 : 0));
    putU8(0xb8 + reg.low3());
    putU64(imm);
  }

  /** {@code (REX.B) b8+r imm32}: mov reg32, imm32 (zero-extends into the 64-bit register). */
  public void putMovReg32Imm32(Gpr reg, int imm) {
    if (reg.isExtended()) putU8(0x41);
    putU8(0xb8 + reg.low3());
    putS32(imm);
  }

  /** {@code REX.W 8b /r}: mov dst, qword ptr [base]. */
  public void putMovRegMemBase(Gpr dst, Gpr base) {
    putLoad(true, dst, base);
  }

  /** {@code (REX) 8b /r}: mov dst32, dword ptr [base] (zero-extends into the 64-bit register). */
  public void putMovReg32MemBase(Gpr dst, Gpr base) {
    putLoad(false, dst, base);
  }

  /**
   * ModRM for {@code [base]}: rsp/r12 as base need a SIB byte (24), and rbp/r13 with mod=00
   * would mean RIP-relative, so they take mod=01 with disp8 0 (SDM vol. 2, table 2-2).
   */
  private void putLoad(boolean wide, Gpr dst, Gpr base) {
    int rex = (wide ? 8 : 0) | (dst.isExtended() ? 4 : 0) | (base.isExtended() ? 1 : 0);
    if (rex != 0) putU8(0x40 | rex);
    putU8(0x8b);
    putModRmBase(dst.low3(), base);
  }

  /** ModRM (+ SIB or disp8 0) for {@code [base]} with {@code reg} (a register or /digit). */
  private void putModRmBase(int reg, Gpr base) {
    boolean needsDisp8 = base.low3() == 5;
    putU8((needsDisp8 ? 0x40 : 0x00) | reg << 3 | base.low3());
    if (base.low3() == 4) putU8(0x24);
    if (needsDisp8) putU8(0x00);
  }

  /** {@code REX.W(+R+B) 89 /r}: mov dst, src (64-bit). */
  public void putMovRegReg(Gpr dst, Gpr src) {
    putU8(0x48 | (src.isExtended() ? 4 : 0) | (dst.isExtended() ? 1 : 0));
    putU8(0x89);
    putU8(0xc0 | src.low3() << 3 | dst.low3());
  }

  /** {@code REX.W(+B) c7 /0 imm32}: mov qword ptr [base], imm32 (sign-extended). */
  public void putMovMemBaseImm32(Gpr base, int imm) {
    putU8(0x48 | (base.isExtended() ? 1 : 0));
    putU8(0xc7);
    putModRmBase(0, base);
    putS32(imm);
  }

  /** {@code (41) 50+r}: push reg. */
  public void putPushReg(Gpr reg) {
    if (reg.isExtended()) putU8(0x41);
    putU8(0x50 + reg.low3());
  }

  /** {@code (41) 58+r}: pop reg. */
  public void putPopReg(Gpr reg) {
    if (reg.isExtended()) putU8(0x41);
    putU8(0x58 + reg.low3());
  }

  /** {@code c3}. */
  public void putRet() {
    putU8(0xc3);
  }

  /** {@code cc}. */
  public void putInt3() {
    putU8(0xcc);
  }

  /** {@code 0f 05}: syscall (rax = number; rcx and r11 are clobbered). */
  public void putSyscall() {
    putBytes((byte) 0x0f, (byte) 0x05);
  }

  /** {@code 0f 0b}: ud2, an instruction that always raises #UD (SIGILL). */
  public void putUd2() {
    putBytes((byte) 0x0f, (byte) 0x0b);
  }

  /** Recommended multi-byte NOPs, 1 to 9 bytes each (Intel SDM vol. 2, NOP, table 4-12). */
  private static final byte[][] NOPS = {
    {},
    {(byte) 0x90},
    {0x66, (byte) 0x90},
    {0x0f, 0x1f, 0x00},
    {0x0f, 0x1f, 0x40, 0x00},
    {0x0f, 0x1f, 0x44, 0x00, 0x00},
    {0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
    {0x0f, 0x1f, (byte) 0x80, 0x00, 0x00, 0x00, 0x00},
    {0x0f, 0x1f, (byte) 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
    {0x66, 0x0f, 0x1f, (byte) 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
  };

  /** {@code n} bytes of NOPs, as few instructions as possible (at most 9 bytes each). */
  public void putNop(int n) {
    if (n < 0) throw new IllegalArgumentException("negative NOP length " + n);
    for (int left = n; left > 0; left -= Math.min(left, 9)) {
      putBytes(NOPS[Math.min(left, 9)]);
    }
  }
}
