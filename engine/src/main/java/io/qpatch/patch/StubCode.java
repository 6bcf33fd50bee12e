package io.qpatch.patch;

import io.qpatch.arch.x86_64.Decoder;
import io.qpatch.arch.x86_64.RelocationCheck;
import io.qpatch.arch.x86_64.Relocator;
import io.qpatch.arch.x86_64.X86Writer;

/**
 * The code qpatch puts near a redirected function: a stub per function and patch, and a
 * trampoline holding the function's relocated first instructions.
 *
 * <p>The stub is the switch that makes activation atomic: every entry jump of a patch
 * goes to its stub, and every stub of the patch tests the same state byte in the patch's
 * record. While the byte is not ACTIVE the stub goes on to {@code previous} (the
 * trampoline, or the stub of the patch below on the same function), so installing entry
 * jumps one by one changes no behaviour; writing the one byte then switches every
 * function at once, and a rollback switches them back the same way.
 *
 * <pre>
 *  0  50                    push rax              ; rax may carry the vector count (psABI 3.5.7)
 *  1  48 8b 05 28 00 00 00  mov rax, [rip+0x28]   ; the state byte's address, at +48
 *  8  80 38 03              cmp byte [rax], 3     ; ACTIVE
 * 11  58                    pop rax
 * 12  75 0e                 jne +14               ; to previous
 * 14  ff 25 00 00 00 00     jmp [rip]             ; the patch's function
 * 20  .quad replacement
 * 28  ff 25 00 00 00 00     jmp [rip]             ; previous: what a hook's calls reach
 * 34  .quad previous
 * 42  cc * 6
 * 48  .quad state byte address
 * 56  cc * 8
 * </pre>
 *
 * It clobbers only the status flags, which no function expects to keep across a call
 * (psABI 3.2.1, figure 3.4: rflags are not preserved), and uses 8 bytes below the stack
 * pointer, free at any function entry (the caller's red zone ends at its call).
 */
final class StubCode {
  static final int STUB_SIZE = 64;
  /** Calling here reaches the previous version of the function. */
  static final int PREVIOUS_ENTRY = 28;
  /** The 8 bytes rewritten when the patch below changes. */
  static final int PREVIOUS_SLOT = 34;
  /** Trampolines start 16-byte aligned after the stub. */
  static final int TRAMPOLINE_ALIGN = 16;

  private static final int STATE_POINTER = 48;

  private StubCode() {}

  /** The stub's bytes. */
  static byte[] stub(long stateAddress, long replacement, long previous) {
    X86Writer w = new X86Writer(0);
    w.putBytes((byte) 0x50);
    w.putBytes((byte) 0x48, (byte) 0x8b, (byte) 0x05);
    w.putS32(STATE_POINTER - 8);
    w.putBytes((byte) 0x80, (byte) 0x38, (byte) PatchState.ACTIVE.code());
    w.putBytes((byte) 0x58, (byte) 0x75, (byte) (PREVIOUS_ENTRY - 14));
    w.putJmpAbsIndirect(replacement);
    w.putJmpAbsIndirect(previous);
    pad(w, STATE_POINTER);
    w.putU64(stateAddress);
    pad(w, STUB_SIZE);
    return w.bytes();
  }

  /** The 8 bytes of the previous slot. */
  static byte[] previousSlot(long previous) {
    X86Writer w = new X86Writer(0);
    w.putU64(previous);
    return w.bytes();
  }

  /** Room for the stub plus the largest trampoline {@code check} can need. */
  static int slotSize(RelocationCheck check) {
    int trampoline = check.maxRelocatedSize();
    return STUB_SIZE + (trampoline + TRAMPOLINE_ALIGN - 1) / TRAMPOLINE_ALIGN * TRAMPOLINE_ALIGN;
  }

  /**
   * The trampoline to run at {@code pc}: the instructions covering the first {@code
   * relocated} bytes of {@code code} (the original function at {@code function}: 5, or a
   * shorter function's whole code), relocated, then a jump back to the first instruction
   * not copied, unless the last one never falls through.
   */
  static byte[] trampoline(Decoder decoder, byte[] code, long function, int relocated, long pc) {
    X86Writer w = new X86Writer(pc);
    new Relocator(decoder).relocate(code, function, relocated, w);
    return w.bytes();
  }

  /** {@code e9 rel32} at {@code from} to {@code to}. */
  static byte[] entryJump(long from, long to) {
    X86Writer w = new X86Writer(from);
    w.putJmpRel32(to);
    return w.bytes();
  }

  /** The target of an {@code e9 rel32} at {@code from}, or 0 if {@code bytes} is none. */
  static long entryJumpTarget(long from, byte[] bytes) {
    if (bytes.length < 5 || (bytes[0] & 0xff) != 0xe9) return 0;
    int rel = (bytes[1] & 0xff) | (bytes[2] & 0xff) << 8 | (bytes[3] & 0xff) << 16 | bytes[4] << 24;
    return from + 5 + rel;
  }

  private static void pad(X86Writer w, int upTo) {
    while (w.offset() < upTo) w.putInt3();
  }
}
