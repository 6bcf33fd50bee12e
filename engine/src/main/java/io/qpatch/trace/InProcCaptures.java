package io.qpatch.trace;

import io.qpatch.arch.x86_64.Cond;
import io.qpatch.arch.x86_64.Gpr;
import io.qpatch.arch.x86_64.X86Writer;
import io.qpatch.sys.Syscall;
import java.util.ArrayList;
import java.util.List;

/**
 * The memory one in-process probe captures at the call ({@link Capture}s: a string's
 * bytes, stack arguments, an interface's type), where it goes in the probe's records, and
 * the code that copies it there.
 *
 * <p>After the record's fixed part come a word for the ticket, one local and one remote
 * iovec, then each capture's length as read (int32: bytes, or -errno), then the bytes,
 * each capture 8-aligned.
 *
 * <p>Go vouches for some memory: a string's bytes for its length, the word behind a
 * non-nil pointer; those are loaded directly (a few ns).
 *
 * <p>Other memory behind a register may be anything (a NULL {@code char *}, a dangling
 * pointer, an empty Go string's nil): a load would kill the target. Such captures are
 * read by {@code process_vm_readv(2)} on the process itself, which answers EFAULT instead
 * of faulting and stops at the first unmapped page (mm/process_vm_access.c); one system
 * call per capture, so a bad pointer costs only its own value. The stack above rsp at
 * the call is the caller's frame, mapped: stack arguments are copied with plain loads.
 * The call needs the process's pid, an immediate: a vfork child (it shares the
 * trampolines) reads its parent, which the kernel refuses or the backend drops anyway.
 *
 * <p>Except where the memory is known to stay: a pointer into the executable's own image
 * (its string literals, its data), which is mapped from exec to exit, is copied with
 * {@code rep movsb} when the whole capture lies in it ({@link Span}); the system call is
 * what a pointer anywhere else (the heap, a stack, a library) costs.
 */
final class InProcCaptures {
  static final InProcCaptures NONE = new InProcCaptures(List.of(), 0, 0, new long[0]);
  private static final int TICKET = 0;
  private static final int LOCAL_IOV = 8;
  private static final int REMOTE_IOV = 24;
  private static final int LENGTHS = 40;

  private final List<Capture> captures;
  /** Offset of this area in the record (the end of its fixed part). */
  private final long base;
  /** Offset of the area's end in the record. */
  private final long end;
  /** Offset of each capture's bytes in the record. */
  private final long[] data;

  private InProcCaptures(List<Capture> captures, long base, long end, long[] data) {
    this.captures = List.copyOf(captures);
    this.base = base;
    this.end = end;
    this.data = data;
  }

  /** {@code captures} laid out after {@code base} bytes of fixed record. */
  static InProcCaptures of(List<Capture> captures, long base) {
    if (captures.isEmpty()) return NONE;
    long at = align8(base + LENGTHS + 4L * captures.size());
    long[] data = new long[captures.size()];
    for (int i = 0; i < data.length; i++) {
      data[i] = at;
      at = align8(at + captures.get(i).length());
    }
    return new InProcCaptures(captures, base, at, data);
  }

  boolean isEmpty() {
    return captures.isEmpty();
  }

  List<Capture> captures() {
    return captures;
  }

  /** Bytes of record this needs, from the record's start. */
  long end() {
    return end;
  }

  /**
   * Each capture's bytes from a record's {@code rest} (its bytes after the fixed part), or
   * null for one that could not be read.
   */
  List<byte[]> bytes(byte[] rest) {
    List<byte[]> out = new ArrayList<>();
    java.nio.ByteBuffer lengths = java.nio.ByteBuffer.wrap(rest).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < captures.size(); i++) {
      int got = lengths.getInt(LENGTHS + 4 * i);
      int n = Math.min(got, captures.get(i).length());
      int from = (int) (data[i] - base);
      out.add(n <= 0 ? null : java.util.Arrays.copyOfRange(rest, from, from + n));
    }
    return out;
  }

  /**
   * Memory [start, end) that stays mapped and readable as long as the process lives: the
   * readable mappings of its executable file, from exec on (a program that unmaps its own
   * image is not one we trace). {@link #NONE} when unknown.
   */
  record Span(long start, long end) {
    static final Span NONE = new Span(0, 0);

    /** The largest run of adjacent readable mappings of {@code pid}'s executable; NONE when unreadable. */
    static Span image(int pid) {
      String exe;
      try {
        exe = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc", Integer.toString(pid), "exe")).toString();
      } catch (java.io.IOException e) {
        return NONE;
      }
      Span best = NONE;
      Span run = NONE;
      for (io.qpatch.proc.Mapping m : io.qpatch.proc.ProcMaps.read(pid)) {
        boolean ours = m.isReadable() && m.isFile() && m.filePath().equals(exe.replace(" (deleted)", ""));
        if (!ours) continue;
        run = run != NONE && run.end == m.start() ? new Span(run.start, m.end()) : new Span(m.start(), m.end());
        if (run.end - run.start > best.end - best.start) best = run;
      }
      return best;
    }

    /** Whether a copy of {@code length} bytes from it can be decided by one compare with an imm32. */
    boolean holds(int length) {
      long room = end - start - length;
      return room >= 0 && room == (int) room;
    }
  }

  /**
   * The copying code, for a record block that holds the slot's address in rsi and the
   * ticket in rdi, has already stored the probe's registers into the record, and sits
   * {@code stackAbove} bytes below the probe's rsp. Leaves rsi, rdi, r8-r10 as it found
   * them; clobbers rax, rcx, rdx, r11 (which the block saved) and the flags (pushed).
   * Memory in {@code permanent} is copied without a system call.
   */
  void emit(X86Writer out, long stackAbove, int pid, Span permanent) {
    if (captures.isEmpty()) return;
    putRsi(out, 0x48, 0x89, 0xbe, base + TICKET); // mov [rsi+ticket], rdi
    boolean called = false;
    for (int i = 0; i < captures.size(); i++) {
      Capture c = captures.get(i);
      int length = base32(base + LENGTHS + 4L * i);
      if (c.register() == SampleRegs.SP && !c.through()) {
        putCopyFromStack(out, stackAbove + c.offset(), data[i], c.length());
        putRsiImm(out, 0xc7, 0x86, length, c.length()); // mov dword [rsi+len], imm32
      } else if (c.kind() == Capture.Kind.GO_POINTER && fieldOf(c.register()) != null) {
        putGoPointer(out, c, data[i], length);
      } else if (c.kind() == Capture.Kind.GO_STRING && fieldOf(c.register()) != null && fieldOf(c.lengthRegister()) != null) {
        putGoString(out, c, data[i], length);
      } else if (putAddressInRax(out, c, stackAbove)) {
        X86Writer.Label done = out.newLabel();
        if (permanent.holds(c.length())) putCopyIfPermanent(out, permanent, data[i], c.length(), done);
        putReadSelf(out, data[i], c.length(), pid);
        out.putLabel(done);
        putRsi(out, 0x89, 0x86, length); // mov [rsi+len], eax
        called = true;
      } else {
        putRsiImm(out, 0xc7, 0x86, length, -1);
      }
    }
    if (called) {
      putRsi(out, 0x4c, 0x8b, 0x86, recordField("r8")); // mov r8, [rsi+r8]
      putRsi(out, 0x4c, 0x8b, 0x8e, recordField("r9")); // mov r9, [rsi+r9]
      putRsi(out, 0x4c, 0x8b, 0x96, recordField("r10")); // mov r10, [rsi+r10]
    }
    putRsi(out, 0x48, 0x8b, 0xbe, base + TICKET); // mov rdi, [rsi+ticket]
  }

  /**
   * A word behind a Go pointer, loaded directly unless the pointer is nil (then the
   * length says -1): mov rax, [rsi+reg]; test rax, rax; jz; mov rax, [rax+off]; store.
   */
  private static void putGoPointer(X86Writer out, Capture c, long to, int length) {
    X86Writer.Label none = out.newLabel();
    X86Writer.Label done = out.newLabel();
    putRsi(out, 0x48, 0x8b, 0x86, recordField(fieldOf(c.register()))); // mov rax, [rsi+reg]
    out.putBytes((byte) 0x48, (byte) 0x85, (byte) 0xc0); // test rax, rax
    out.putJccShortLabel(Cond.E, none);
    out.putBytes((byte) 0x48, (byte) 0x8b, (byte) 0x80); // mov rax, [rax+disp32]
    out.putS32(base32(c.offset()));
    putRsi(out, 0x48, 0x89, 0x86, to); // mov [rsi+to], rax
    putRsiImm(out, 0xc7, 0x86, length, 8); // mov dword [rsi+len], 8
    out.putJmpShortLabel(done);
    out.putLabel(none);
    putRsiImm(out, 0xc7, 0x86, length, -1);
    out.putLabel(done);
  }

  /**
   * A Go string's first min(len, {@link Capture#MAX_LENGTH}) bytes, copied directly with
   * {@code rep movsb} (DF is clear at any call, psABI 3.2.1 and Go's ABI alike); nothing
   * for nil or an empty string. rsi is the slot again after: rdi - count - to.
   */
  private static void putGoString(X86Writer out, Capture c, long to, int length) {
    X86Writer.Label none = out.newLabel();
    X86Writer.Label fits = out.newLabel();
    X86Writer.Label done = out.newLabel();
    putRsi(out, 0x48, 0x8b, 0x86, recordField(fieldOf(c.register()))); // mov rax, [rsi+ptr]
    out.putBytes((byte) 0x48, (byte) 0x85, (byte) 0xc0); // test rax, rax
    out.putJccShortLabel(Cond.E, none);
    putRsi(out, 0x48, 0x8b, 0x8e, recordField(fieldOf(c.lengthRegister()))); // mov rcx, [rsi+len]
    out.putBytes((byte) 0x48, (byte) 0x85, (byte) 0xc9); // test rcx, rcx
    out.putJccShortLabel(Cond.LE, none);
    out.putBytes((byte) 0x48, (byte) 0x83, (byte) 0xf9, (byte) c.length()); // cmp rcx, imm8
    out.putJccShortLabel(Cond.BE, fits);
    out.putMovReg32Imm32(Gpr.RCX, c.length());
    out.putLabel(fits);
    putRsi(out, 0x89, 0x8e, length); // mov [rsi+len], ecx
    out.putBytes((byte) 0x89, (byte) 0xca); // mov edx, ecx
    putRsi(out, 0x48, 0x8d, 0xbe, to); // lea rdi, [rsi+to]
    out.putBytes((byte) 0x48, (byte) 0x89, (byte) 0xc6); // mov rsi, rax
    out.putBytes((byte) 0xf3, (byte) 0xa4); // rep movsb
    out.putBytes((byte) 0x48, (byte) 0x29, (byte) 0xd7); // sub rdi, rdx
    putRsi(out, 0x48, 0x8d, 0xb7, -to); // lea rsi, [rdi-to]
    out.putJmpShortLabel(done);
    out.putLabel(none);
    putRsiImm(out, 0xc7, 0x86, length, -1);
    out.putLabel(done);
  }

  /** {@code length} bytes at probe rsp + {@code from} into the record at {@code to}, via rax/al. */
  private static void putCopyFromStack(X86Writer out, long from, long to, int length) {
    for (int k = 0; k < length; ) {
      boolean word = length - k >= 8;
      if (word) out.putBytes((byte) 0x48, (byte) 0x8b, (byte) 0x84, (byte) 0x24); // mov rax, [rsp+disp32]
      else out.putBytes((byte) 0x8a, (byte) 0x84, (byte) 0x24); // mov al, [rsp+disp32]
      out.putS32(base32(from + InProcCode.STACK_BYTES + k));
      if (word) out.putBytes((byte) 0x48, (byte) 0x89, (byte) 0x86); // mov [rsi+disp32], rax
      else out.putBytes((byte) 0x88, (byte) 0x86); // mov [rsi+disp32], al
      out.putS32(base32(to + k));
      k += word ? 8 : 1;
    }
  }

  /**
   * rax = the capture's source address: register + offset, or the word on the stack at
   * rsp + offset, plus inner. False for a word behind a register (not needed by any
   * decoding, and only loadable unsafely).
   */
  private static boolean putAddressInRax(X86Writer out, Capture c, long stackAbove) {
    if (c.through()) {
      if (c.register() != SampleRegs.SP) return false;
      out.putBytes((byte) 0x48, (byte) 0x8b, (byte) 0x84, (byte) 0x24); // mov rax, [rsp+disp32]
      out.putS32(base32(stackAbove + InProcCode.STACK_BYTES + c.offset()));
      putAddRax(out, c.inner());
      return true;
    }
    String field = fieldOf(c.register());
    if (field == null) return false;
    putRsi(out, 0x48, 0x8b, 0x86, recordField(field)); // mov rax, [rsi+reg]
    putAddRax(out, c.offset());
    return true;
  }

  /**
   * When [rax, rax+n) lies in {@code span}: copies it to the record with {@code rep movsb}
   * (the ABIs leave the direction flag clear at a call), eax = n, and on to {@code done};
   * else falls through. rdi is free here (the ticket is in the record), rsi is kept on the
   * stack meanwhile.
   */
  private static void putCopyIfPermanent(X86Writer out, Span span, long to, int length, X86Writer.Label done) {
    X86Writer.Label elsewhere = out.newLabel();
    out.putMovRegImm64(Gpr.RDX, -span.start()); // mov rdx, -start
    out.putBytes((byte) 0x48, (byte) 0x01, (byte) 0xc2); // add rdx, rax: offset into the span
    out.putBytes((byte) 0x48, (byte) 0x81, (byte) 0xfa); // cmp rdx, imm32
    out.putS32((int) (span.end() - span.start() - length));
    out.putJccShortLabel(io.qpatch.arch.x86_64.Cond.A, elsewhere); // unsigned: below the start wraps above too
    out.putU8(0x56); // push rsi
    putRsi(out, 0x48, 0x8d, 0xbe, base32(to)); // lea rdi, [rsi+to]
    out.putBytes((byte) 0x48, (byte) 0x89, (byte) 0xc6); // mov rsi, rax
    out.putMovReg32Imm32(Gpr.RCX, length);
    out.putBytes((byte) 0xf3, (byte) 0xa4); // rep movsb
    out.putU8(0x5e); // pop rsi
    out.putMovReg32Imm32(Gpr.RAX, length);
    out.putJmpShortLabel(done);
    out.putLabel(elsewhere);
  }

  /**
   * process_vm_readv(pid, {record+to, n}, 1, {rax, n}, 1, 0): rax = bytes read or -errno.
   * rsi points at the local iovec during the call and at the slot again after it.
   */
  private void putReadSelf(X86Writer out, long to, int length, int pid) {
    putRsi(out, 0x48, 0x89, 0x86, base32(base + REMOTE_IOV)); // mov [rsi+remote.base], rax
    putRsiImm(out, 0x48, 0xc7, 0x86, base32(base + REMOTE_IOV + 8), length); // mov qword [rsi+remote.len], n
    putRsi(out, 0x48, 0x8d, 0x86, base32(to)); // lea rax, [rsi+to]
    putRsi(out, 0x48, 0x89, 0x86, base32(base + LOCAL_IOV)); // mov [rsi+local.base], rax
    putRsiImm(out, 0x48, 0xc7, 0x86, base32(base + LOCAL_IOV + 8), length); // mov qword [rsi+local.len], n
    out.putMovReg32Imm32(Gpr.RDI, pid);
    out.putMovReg32Imm32(Gpr.RDX, 1);
    putRsi(out, 0x4c, 0x8d, 0x96, base32(base + REMOTE_IOV)); // lea r10, [rsi+remote]
    out.putMovReg32Imm32(Gpr.R8, 1);
    out.putBytes((byte) 0x45, (byte) 0x31, (byte) 0xc9); // xor r9d, r9d
    putRsi(out, 0x48, 0x8d, 0xb6, base32(base + LOCAL_IOV)); // lea rsi, [rsi+local]
    out.putMovReg32Imm32(Gpr.RAX, Syscall.PROCESS_VM_READV);
    out.putSyscall();
    putRsi(out, 0x48, 0x8d, 0xb6, -base32(base + LOCAL_IOV)); // lea rsi, [rsi-local]
  }

  /** add rax, imm32: 48 05 imm32 (nothing for 0). */
  private static void putAddRax(X86Writer out, long value) {
    if (value == 0) return;
    out.putBytes((byte) 0x48, (byte) 0x05);
    out.putS32(base32(value));
  }

  /** {@code opcode} whose ModRM addresses [rsi+disp32], then disp32. */
  private static void putRsi(X86Writer out, int b0, int b1, int b2, long disp) {
    out.putBytes((byte) b0, (byte) b1, (byte) b2);
    out.putS32(base32(disp));
  }

  private static void putRsi(X86Writer out, int b0, int b1, long disp) {
    out.putBytes((byte) b0, (byte) b1);
    out.putS32(base32(disp));
  }

  /** The same with an imm32 after the displacement. */
  private static void putRsiImm(X86Writer out, int b0, int b1, int b2, long disp, int imm) {
    putRsi(out, b0, b1, b2, disp);
    out.putS32(imm);
  }

  private static void putRsiImm(X86Writer out, int b0, int b1, long disp, int imm) {
    putRsi(out, b0, b1, disp);
    out.putS32(imm);
  }

  /** The record field holding register slot {@code slot} as it was at the probe; null if none does. */
  private static String fieldOf(int slot) {
    for (int i = 0; i < InProcRing.REG_SLOTS.length; i++) {
      if (InProcRing.REG_SLOTS[i] == slot) return InProcRing.REG_FIELDS[i];
    }
    return null;
  }

  private static long recordField(String name) {
    return InProcRing.offset(InProcRing.RECORD, name);
  }

  private static int base32(long v) {
    if (v != (int) v) throw new IllegalArgumentException("displacement out of range: " + v);
    return (int) v;
  }

  private static long align8(long n) {
    return (n + 7) & ~7L;
  }
}
