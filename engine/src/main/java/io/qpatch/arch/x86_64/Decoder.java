package io.qpatch.arch.x86_64;

import static io.qpatch.arch.x86_64.CapstoneIds.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.qpatch.arch.x86_64.CapstoneStructs.CsDetail;
import io.qpatch.arch.x86_64.CapstoneStructs.CsInsn;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Decodes x86-64 machine code with Capstone into {@link Instruction}s.
 *
 * <p>Threads: each Decoder owns one Capstone handle and one instruction buffer, and its
 * methods are {@code synchronized}, so one Decoder may be shared; threads that decode a
 * lot in parallel should open one each. {@link #shared()} is a process-wide instance that
 * is never closed.
 *
 * <p>Decoding is a linear sweep: it stops at the first bytes Capstone cannot decode (data
 * in code, or the end of the input cutting an instruction short).
 */
public final class Decoder implements AutoCloseable {
  /** x86 instructions are at most 15 bytes long (Intel SDM vol. 2A, 2.1, and 2.3.11). */
  public static final int MAX_INSTRUCTION_LENGTH = 15;

  /** Opened on first use; a failed open (no library) is retried and refused again. */
  private static volatile Decoder sharedInstance;

  private final Capstone cs;
  private final Arena arena = Arena.ofShared();
  private final String[] regNames = new String[256];
  private final MemorySegment codePtr = arena.allocate(ADDRESS);
  private final MemorySegment sizePtr = arena.allocate(JAVA_LONG);
  private final MemorySegment addressPtr = arena.allocate(JAVA_LONG);
  private MemorySegment codeBuffer = arena.allocate(4096);

  private final boolean shared;

  private Decoder(Capstone cs, boolean shared) {
    this.cs = cs;
    this.shared = shared;
  }

  /**
   * Opens a decoder with its own Capstone handle.
   *
   * @throws io.qpatch.error.RefusedException when libcapstone.so.4 is missing
   */
  public static Decoder open() {
    return new Decoder(Capstone.open(), false);
  }

  /** A process-wide decoder, opened on first use and never closed. */
  public static Decoder shared() {
    Decoder d = sharedInstance;
    if (d != null) return d;
    synchronized (Decoder.class) {
      if (sharedInstance == null) sharedInstance = new Decoder(Capstone.open(), true);
      return sharedInstance;
    }
  }

  /** The first instruction of {@code code}, which sits at {@code address}; empty if invalid. */
  public Optional<Instruction> decode(byte[] code, long address) {
    return decode(code, 0, address);
  }

  /** The instruction at {@code code[offset]}, which sits at {@code address}; empty if invalid. */
  public synchronized Optional<Instruction> decode(byte[] code, int offset, long address) {
    Objects.checkIndex(offset, code.length + 1);
    List<Instruction> out = new ArrayList<>(1);
    sweep(code, offset, Math.min(code.length - offset, MAX_INSTRUCTION_LENGTH), address, 1, out);
    return out.stream().findFirst();
  }

  /** Every instruction of {@code code} (a whole function, say) up to the first invalid one. */
  public synchronized List<Instruction> decodeAll(byte[] code, long address) {
    List<Instruction> out = new ArrayList<>();
    sweep(code, 0, code.length, address, Integer.MAX_VALUE, out);
    return out;
  }

  /**
   * Instructions from the start of {@code code} until they cover at least {@code minBytes},
   * or until an invalid instruction or the end of {@code code}, whichever comes first.
   */
  public synchronized List<Instruction> decodeAtLeast(byte[] code, long address, int minBytes) {
    List<Instruction> out = new ArrayList<>();
    int length = Math.min(code.length, minBytes + MAX_INSTRUCTION_LENGTH - 1);
    sweep(code, 0, length, address, minBytes, out);
    return out;
  }

  /** Capstone's name for a register id ("rax"), cached. */
  String regName(int regId) {
    if (regId == X86_REG_INVALID) return "";
    if (regId < 0 || regId >= regNames.length) return cs.regName(regId);
    String name = regNames[regId];
    if (name == null) regNames[regId] = name = cs.regName(regId);
    return name;
  }

  /** Decodes from {@code code[offset]} until {@code stopAfterBytes} are covered or it fails. */
  private void sweep(byte[] code, int offset, int length, long address, long stopAfterBytes,
      List<Instruction> out) {
    if (length <= 0) return;
    MemorySegment buffer = codeBuffer(length);
    MemorySegment.copy(code, offset, buffer, JAVA_BYTE, 0, length);
    codePtr.set(ADDRESS, 0, buffer);
    sizePtr.set(JAVA_LONG, 0, length);
    addressPtr.set(JAVA_LONG, 0, address);
    long covered = 0;
    while (covered < stopAfterBytes && cs.disasmIter(codePtr, sizePtr, addressPtr)) {
      Instruction insn = read(cs.insn());
      out.add(insn);
      covered += insn.length();
    }
  }

  private MemorySegment codeBuffer(int length) {
    if (codeBuffer.byteSize() < length) {
      // The shared arena frees only on close; doubling keeps the waste under 2x the largest input.
      codeBuffer = arena.allocate(Math.max(length, codeBuffer.byteSize() * 2));
    }
    return codeBuffer;
  }

  @SuppressWarnings("restricted") // cs_insn.detail points at a cs_detail Capstone owns
  private Instruction read(MemorySegment insn) {
    int size = Short.toUnsignedInt((short) CsInsn.SIZE.get(insn, 0L));
    Instruction.Core core = new Instruction.Core(
        (long) CsInsn.ADDRESS_.get(insn, 0L),
        insn.asSlice(CsInsn.BYTES, size).toArray(JAVA_BYTE),
        (int) CsInsn.ID.get(insn, 0L),
        insn.getString(CsInsn.MNEMONIC),
        insn.getString(CsInsn.OP_STR));
    MemorySegment detail = ((MemorySegment) CsInsn.DETAIL.get(insn, 0L))
        .reinterpret(CsDetail.LAYOUT.byteSize());
    return InstructionFacts.build(this, core, detail);
  }

  @Override
  public synchronized void close() {
    if (shared) throw new IllegalStateException("the shared Decoder is never closed");
    cs.close();
    arena.close();
  }
}
