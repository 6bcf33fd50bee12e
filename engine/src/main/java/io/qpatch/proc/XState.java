package io.qpatch.proc;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.qpatch.sys.Ptrace;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * A thread's XSAVE area (x87, SSE, AVX, AVX-512, PKRU) through PTRACE_GETREGSET /
 * SETREGSET of NT_X86_XSTATE, in the standard (non-compacted) format that the kernel
 * also uses in signal frames, so the same bytes can be handed to rt_sigreturn as {@code
 * fpstate}. One buffer per instance: use from the tracer thread only.
 */
final class XState {
  /** NT_X86_XSTATE (include/uapi/linux/elf.h). */
  private static final int NT_X86_XSTATE = 0x202;

  /** Large enough for every XSAVE layout up to AVX-512 and AMX tiles. */
  static final int MAX = 12 * 1024;

  /**
   * struct _fpx_sw_bytes (arch/x86/include/uapi/asm/sigcontext.h), in the software-reserved
   * bytes 464..511 of the FXSAVE area: rt_sigreturn restores the extended state only when
   * magic1 is there and magic2 follows the state at xstate_size (check_xstate_in_sigframe,
   * arch/x86/kernel/fpu/signal.c); otherwise only x87/SSE.
   */
  static final StructLayout SW_BYTES =
      MemoryLayout.structLayout(
          JAVA_INT.withName("magic1"), JAVA_INT.withName("extended_size"),
          JAVA_LONG.withName("xfeatures"), JAVA_INT.withName("xstate_size"),
          MemoryLayout.sequenceLayout(7, JAVA_INT).withName("padding"));

  static final long SW_BYTES_OFFSET = 464;
  /** XSTATE_BV in the XSAVE header at byte 512 (Intel SDM vol. 1, 13.4.2). */
  private static final long XSTATE_BV_OFFSET = 512;
  private static final int LEGACY_AND_HEADER = 512 + 64;
  static final int FP_XSTATE_MAGIC1 = 0x46505853, FP_XSTATE_MAGIC2 = 0x46505845;

  private static final VarHandle MAGIC1 = SW_BYTES.varHandle(groupElement("magic1"));
  private static final VarHandle EXTENDED_SIZE = SW_BYTES.varHandle(groupElement("extended_size"));
  private static final VarHandle XFEATURES = SW_BYTES.varHandle(groupElement("xfeatures"));
  private static final VarHandle XSTATE_SIZE = SW_BYTES.varHandle(groupElement("xstate_size"));

  private final MemorySegment buffer = Arena.ofAuto().allocate(MAX, 64);
  private final MemorySegment iovec = Arena.ofAuto().allocate(16, 8);

  byte[] read(int tid) {
    long len = Ptrace.getRegSet(tid, NT_X86_XSTATE, buffer, iovec);
    return buffer.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE);
  }

  void write(int tid, byte[] image) {
    MemorySegment.copy(image, 0, buffer, ValueLayout.JAVA_BYTE, 0, image.length);
    Ptrace.setRegSet(tid, NT_X86_XSTATE, buffer, image.length, iovec);
  }

  /**
   * {@code image} made acceptable to rt_sigreturn: the software bytes say an XSAVE image
   * of {@code xstate_size} bytes follows, and magic2 is appended after it. The kernel
   * fills those bytes in what ptrace returns (copy_xstate_to_uabi_buf); if they are
   * missing they are written here for the features the header marks present.
   */
  static byte[] forSigFrame(byte[] image) {
    if (image.length < LEGACY_AND_HEADER) {
      throw new IllegalArgumentException("XSAVE image of " + image.length + " bytes");
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(image.length + 4L, 64);
      MemorySegment.copy(image, 0, out, ValueLayout.JAVA_BYTE, 0, image.length);
      MemorySegment sw = out.asSlice(SW_BYTES_OFFSET, SW_BYTES.byteSize());
      int size = (int) XSTATE_SIZE.get(sw, 0L);
      boolean filled = (int) MAGIC1.get(sw, 0L) == FP_XSTATE_MAGIC1
          && size >= LEGACY_AND_HEADER && size <= image.length;
      if (!filled) {
        size = image.length;
        MAGIC1.set(sw, 0L, FP_XSTATE_MAGIC1);
        EXTENDED_SIZE.set(sw, 0L, size + 4);
        XFEATURES.set(sw, 0L, out.get(JAVA_LONG, XSTATE_BV_OFFSET));
        XSTATE_SIZE.set(sw, 0L, size);
      }
      out.set(JAVA_INT, size, FP_XSTATE_MAGIC2);
      return out.asSlice(0, size + 4L).toArray(ValueLayout.JAVA_BYTE);
    }
  }
}
