package io.qpatch.proc;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.qpatch.sys.Reg;
import io.qpatch.sys.Registers;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * An x86-64 {@code struct rt_sigframe} that makes the kernel's rt_sigreturn put a thread
 * back as it was: every general register, rip, rsp, rflags, the signal mask and (through
 * {@code fpstate}) the x87/SSE/AVX state, in one system call. A thread that runs into
 * {@code mov eax, 15; syscall} with rsp just past {@code pretcode} restores itself without
 * us (arch/x86/kernel/signal_64.c, SYSCALL_DEFINE0(rt_sigreturn): frame = rsp - 8).
 *
 * <p>Two kernel habits are worked around here. rt_sigreturn sets orig_rax to -1, so the
 * kernel would not restart a system call the thread was interrupted in: {@link
 * #resumeState} performs that restart in the frame instead (the same effect as
 * arch_do_signal_or_restart with no handler: rip back over the syscall, rax = its number).
 * And it applies uc_stack through sigaltstack(2); an invalid ss_flags makes that fail
 * harmlessly (kernel/signal.c do_sigaltstack returns -EINVAL, restore_altstack ignores it),
 * which keeps the thread's alternate signal stack whatever it is.
 */
final class SigFrame {
  /** struct sigcontext_64 (arch/x86/include/uapi/asm/sigcontext.h): 256 bytes. */
  static final StructLayout SIGCONTEXT =
      MemoryLayout.structLayout(
          JAVA_LONG.withName("r8"), JAVA_LONG.withName("r9"), JAVA_LONG.withName("r10"),
          JAVA_LONG.withName("r11"), JAVA_LONG.withName("r12"), JAVA_LONG.withName("r13"),
          JAVA_LONG.withName("r14"), JAVA_LONG.withName("r15"), JAVA_LONG.withName("rdi"),
          JAVA_LONG.withName("rsi"), JAVA_LONG.withName("rbp"), JAVA_LONG.withName("rbx"),
          JAVA_LONG.withName("rdx"), JAVA_LONG.withName("rax"), JAVA_LONG.withName("rcx"),
          JAVA_LONG.withName("rsp"), JAVA_LONG.withName("rip"), JAVA_LONG.withName("eflags"),
          JAVA_SHORT.withName("cs"), JAVA_SHORT.withName("gs"), JAVA_SHORT.withName("fs"),
          JAVA_SHORT.withName("ss"), JAVA_LONG.withName("err"), JAVA_LONG.withName("trapno"),
          JAVA_LONG.withName("oldmask"), JAVA_LONG.withName("cr2"),
          JAVA_LONG.withName("fpstate"), MemoryLayout.sequenceLayout(8, JAVA_LONG)
              .withName("reserved1"));

  /** stack_t (include/uapi/asm-generic/signal.h): 24 bytes. */
  static final StructLayout STACK =
      MemoryLayout.structLayout(
          JAVA_LONG.withName("ss_sp"), JAVA_INT.withName("ss_flags"),
          MemoryLayout.paddingLayout(4), JAVA_LONG.withName("ss_size"));

  /** The kernel's struct ucontext (include/uapi/asm-generic/ucontext.h): 304 bytes. */
  static final StructLayout UCONTEXT =
      MemoryLayout.structLayout(
          JAVA_LONG.withName("uc_flags"), JAVA_LONG.withName("uc_link"),
          STACK.withName("uc_stack"), SIGCONTEXT.withName("uc_mcontext"),
          JAVA_LONG.withName("uc_sigmask"));

  /** struct rt_sigframe (arch/x86/include/asm/sigframe.h); rt_sigreturn checks all of it. */
  static final StructLayout LAYOUT =
      MemoryLayout.structLayout(
          JAVA_LONG.withName("pretcode"), UCONTEXT.withName("uc"),
          MemoryLayout.sequenceLayout(128, ValueLayout.JAVA_BYTE).withName("info"));

  /** Where {@link #build} may put a caller's bytes: siginfo, which rt_sigreturn never reads. */
  static final long SCRATCH_OFFSET = LAYOUT.byteOffset(groupElement("info"));
  static final int SCRATCH_SIZE = 128;

  /** uc_flags: restore ss exactly (arch/x86/include/uapi/asm/ucontext.h). */
  private static final long UC_SIGCONTEXT_SS = 0x2, UC_STRICT_RESTORE_SS = 0x4;
  /** SS_ONSTACK | SS_DISABLE: rejected by do_sigaltstack, so uc_stack changes nothing. */
  private static final int SS_INVALID = 3;
  private static final long TF = 0x100, RF = 0x10000;
  /** include/linux/errno.h: the kernel-internal restart codes a stopped syscall may hold. */
  private static final long ERESTARTSYS = -512, ERESTARTNOINTR = -513, ERESTARTNOHAND = -514;
  static final long ERESTART_RESTARTBLOCK = -516;

  private static final Reg[] SAVED = {
    Reg.R8, Reg.R9, Reg.R10, Reg.R11, Reg.R12, Reg.R13, Reg.R14, Reg.R15, Reg.RDI, Reg.RSI,
    Reg.RBP, Reg.RBX, Reg.RDX, Reg.RAX, Reg.RCX, Reg.RSP, Reg.RIP, Reg.EFLAGS
  };
  private static final VarHandle[] SAVED_FIELDS = new VarHandle[SAVED.length];

  static {
    for (int i = 0; i < SAVED.length; i++) {
      SAVED_FIELDS[i] = LAYOUT.varHandle(groupElement("uc"), groupElement("uc_mcontext"),
          groupElement(SAVED[i] == Reg.EFLAGS ? "eflags" : SAVED[i].field()));
    }
  }

  private static final VarHandle PRETCODE = LAYOUT.varHandle(groupElement("pretcode"));
  private static final VarHandle UC_FLAGS = uc("uc_flags");
  private static final VarHandle SS_FLAGS =
      LAYOUT.varHandle(groupElement("uc"), groupElement("uc_stack"), groupElement("ss_flags"));
  private static final VarHandle SIGMASK = uc("uc_sigmask");
  private static final VarHandle CS = mcontext("cs");
  private static final VarHandle SS = mcontext("ss");
  private static final VarHandle FPSTATE = mcontext("fpstate");

  private SigFrame() {}

  private static VarHandle uc(String field) {
    return LAYOUT.varHandle(groupElement("uc"), groupElement(field));
  }

  private static VarHandle mcontext(String field) {
    return LAYOUT.varHandle(groupElement("uc"), groupElement("uc_mcontext"), groupElement(field));
  }

  static int size() {
    return (int) LAYOUT.byteSize();
  }

  /**
   * The frame's bytes: rt_sigreturn will resume at {@code resume} (see {@link
   * #resumeState}) with {@code sigmask} blocked and the FPU state read from {@code
   * fpstate} (64-byte aligned; 0 resets it to its initial state). {@code scratch} (at
   * most 128 bytes, may be empty) is placed at {@link #SCRATCH_OFFSET}.
   */
  static byte[] build(long pretcode, Registers resume, long sigmask, long fpstate, byte[] scratch) {
    if (scratch.length > SCRATCH_SIZE) throw new IllegalArgumentException("scratch > 128 bytes");
    if ((fpstate & 63) != 0) throw new IllegalArgumentException("fpstate not 64-byte aligned");
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment f = arena.allocate(LAYOUT);
      PRETCODE.set(f, 0L, pretcode);
      UC_FLAGS.set(f, 0L, UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS);
      SS_FLAGS.set(f, 0L, SS_INVALID);
      for (int i = 0; i < SAVED.length; i++) SAVED_FIELDS[i].set(f, 0L, resume.get(SAVED[i]));
      CS.set(f, 0L, (short) resume.get(Reg.CS));
      SS.set(f, 0L, (short) resume.get(Reg.SS));
      FPSTATE.set(f, 0L, fpstate);
      SIGMASK.set(f, 0L, sigmask);
      MemorySegment.copy(scratch, 0, f, ValueLayout.JAVA_BYTE, SCRATCH_OFFSET, scratch.length);
      return f.toArray(ValueLayout.JAVA_BYTE);
    }
  }

  /**
   * The registers a thread stopped at {@code saved} must resume with when it restores
   * itself: a system call it was interrupted in (orig_rax >= 0, rax = -ERESTART*) is
   * entered again with its original arguments, as the kernel does when no handler runs;
   * -ERESTART_RESTARTBLOCK too is re-entered as the original call (rt_sigreturn clears
   * restart_block, so restart_syscall would only fail with EINTR): a relative sleep then
   * starts over. TF and RF are cleared: no single-step trap may follow.
   */
  static Registers resumeState(Registers saved) {
    Registers r = saved.copy();
    r.set(Reg.EFLAGS, saved.get(Reg.EFLAGS) & ~(TF | RF));
    long err = saved.rax();
    boolean restart = err == ERESTARTSYS || err == ERESTARTNOINTR || err == ERESTARTNOHAND
        || err == ERESTART_RESTARTBLOCK;
    if (saved.origRax() >= 0 && restart) r.rax(saved.origRax()).rip(saved.rip() - 2);
    return r;
  }
}
