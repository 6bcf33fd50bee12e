package io.qpatch.proc;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qpatch.sys.Reg;
import io.qpatch.sys.Registers;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class SigFrameTest {
  /** Sizes and offsets from the kernel headers named in SigFrame and XState. */
  @Test
  void layouts_match_the_kernel_headers() {
    assertEquals(256, SigFrame.SIGCONTEXT.byteSize());
    assertEquals(184, SigFrame.SIGCONTEXT.byteOffset(groupElement("fpstate")));
    assertEquals(136, SigFrame.SIGCONTEXT.byteOffset(groupElement("eflags")));
    assertEquals(144, SigFrame.SIGCONTEXT.byteOffset(groupElement("cs")));
    assertEquals(150, SigFrame.SIGCONTEXT.byteOffset(groupElement("ss")));
    assertEquals(24, SigFrame.STACK.byteSize());
    assertEquals(8, SigFrame.STACK.byteOffset(groupElement("ss_flags")));
    assertEquals(304, SigFrame.UCONTEXT.byteSize());
    assertEquals(40, SigFrame.UCONTEXT.byteOffset(groupElement("uc_mcontext")));
    assertEquals(296, SigFrame.UCONTEXT.byteOffset(groupElement("uc_sigmask")));
    assertEquals(8 + 304 + 128, SigFrame.size());
    assertEquals(312, SigFrame.SCRATCH_OFFSET);
    assertEquals(48, XState.SW_BYTES.byteSize());
    assertEquals(16, XState.SW_BYTES.byteOffset(groupElement("xstate_size")));
  }

  @Test
  void frame_puts_each_register_where_rt_sigreturn_reads_it() {
    Registers r = registers();
    byte[] f = SigFrame.build(0x1111, r, 0x2222, 0x3340, "name".getBytes());
    ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
    int mc = 8 + 40;
    assertEquals(0x1111, b.getLong(0), "pretcode");
    assertEquals(0x6, b.getLong(8), "uc_flags: UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS");
    assertEquals(3, b.getInt(8 + 24), "ss_flags: invalid, so sigaltstack is left alone");
    assertEquals(r.get(Reg.R8), b.getLong(mc));
    assertEquals(r.get(Reg.RDI), b.getLong(mc + 64));
    assertEquals(r.get(Reg.RBX), b.getLong(mc + 88));
    assertEquals(r.rax(), b.getLong(mc + 104));
    assertEquals(r.rsp(), b.getLong(mc + 120));
    assertEquals(r.rip(), b.getLong(mc + 128));
    assertEquals(r.get(Reg.EFLAGS), b.getLong(mc + 136));
    assertEquals(0x33, b.getShort(mc + 144));
    assertEquals(0x2b, b.getShort(mc + 150));
    assertEquals(0x3340, b.getLong(mc + 184), "fpstate");
    assertEquals(0x2222, b.getLong(8 + 296), "uc_sigmask");
    assertEquals("name", new String(f, 312, 4));
  }

  @Test
  void an_interrupted_system_call_is_entered_again_and_single_step_is_cleared() {
    for (long err : new long[] {-512, -513, -514, -516}) {
      Registers r = SigFrame.resumeState(registers().rax(err).set(Reg.ORIG_RAX, 230));
      assertEquals(230, r.rax(), "rax for " + err);
      assertEquals(0x401000 - 2, r.rip(), "rip back over the syscall for " + err);
    }
    Registers done = SigFrame.resumeState(registers().rax(-4).set(Reg.ORIG_RAX, 230));
    assertEquals(-4, done.rax(), "EINTR is a result, not a restart");
    Registers none = SigFrame.resumeState(registers().rax(-512).set(Reg.ORIG_RAX, -1));
    assertEquals(0x401000, none.rip(), "not in a system call");
    Registers traced = SigFrame.resumeState(registers().set(Reg.EFLAGS, 0x10346));
    assertEquals(0x246, traced.get(Reg.EFLAGS));
  }

  @Test
  void xsave_image_gets_the_magic_rt_sigreturn_checks() {
    byte[] image = new byte[832];
    image[512] = 7; // XSTATE_BV: x87, SSE, AVX
    byte[] out = XState.forSigFrame(image);
    ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(836, out.length);
    assertEquals(XState.FP_XSTATE_MAGIC1, b.getInt(464));
    assertEquals(836, b.getInt(468), "extended_size");
    assertEquals(7, b.getLong(472), "xfeatures");
    assertEquals(832, b.getInt(480), "xstate_size");
    assertEquals(XState.FP_XSTATE_MAGIC2, b.getInt(832));

    ByteBuffer filled = ByteBuffer.wrap(new byte[1024]).order(ByteOrder.LITTLE_ENDIAN);
    filled.putInt(464, XState.FP_XSTATE_MAGIC1).putInt(468, 836).putLong(472, 0x2e7).putInt(480, 832);
    byte[] kept = XState.forSigFrame(filled.array());
    assertEquals(836, kept.length, "the kernel's own xstate_size is kept");
    assertEquals(0x2e7, ByteBuffer.wrap(kept).order(ByteOrder.LITTLE_ENDIAN).getLong(472));
  }

  private static Registers registers() {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment m = a.allocate(Registers.LAYOUT);
      for (Reg r : Reg.values()) m.set(ValueLayout.JAVA_LONG, 8L * r.ordinal(), 0x100 + r.ordinal());
      return Registers.read(m).rip(0x401000).set(Reg.CS, 0x33).set(Reg.SS, 0x2b)
          .set(Reg.EFLAGS, 0x246).set(Reg.ORIG_RAX, -1);
    }
  }
}
