package io.qpatch.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.sys.Ptrace;
import io.qpatch.sys.Reg;
import io.qpatch.sys.Registers;
import io.qpatch.sys.Syscall;
import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A thread let go for a system call restores itself with an rt_sigreturn from a frame we
 * wrote: in a control-page slot, which the pad frees two instructions before, or below its
 * stack pointer with its FPU image (a bootstrap call at libc's {@code syscall; ret}). Held
 * again before that rt_sigreturn (preempted right after its system call, on a loaded
 * machine, and stopped there by the next operation), the next operation must not overwrite
 * that frame: the thread is first run through its rt_sigreturn. Without that, the next
 * claim of the slot made it restore our frame instead of its own, forever (it hung), and a
 * remote call's frame and stack overwrote the FPU image below the stack pointer (it ran on
 * with corrupted vector registers: RemoteKillTest's rare "BAD" round).
 *
 * <p>The moment is made exactly rather than waited for: the thread's state is written where
 * the let-go call puts it, and its registers set to where it is between its system call and
 * its rt_sigreturn, every signal blocked, as they are there.
 */
class LetGoTailTest {
  @TempDir Path tmp;

  @Test
  void a_thread_held_again_at_the_pads_sigreturn_gets_its_own_state_back() {
    Path exe = Fixtures.c("remotekill", RemoteKillTest.TARGET, "-O2");
    try (LiveProcess target = LiveProcess.start(tmp.resolve("out"), exe.toString());
        Target t = Target.attach(target.pid())) {
      target.awaitOutput(o -> o.contains(" OK "), Duration.ofSeconds(5));
      int tid = target.pid();
      try (Target.Stopped s = t.stop()) {
        assertEquals(tid, t.syscall(Syscall.GETPID), "the control page is made");
        Tracer.get().run(() -> putAtPadSigreturn(tid));
        assertEquals(tid, t.syscall(Syscall.GETPID), "a remote call claiming the same slot");
      }
      assertIntact(target);
    }
  }

  @Test
  void a_thread_held_again_at_the_gadgets_ret_keeps_its_fpu_image_below_the_stack_pointer() {
    Path exe = Fixtures.c("remotekill", RemoteKillTest.TARGET, "-O2");
    try (LiveProcess target = LiveProcess.start(tmp.resolve("out"), exe.toString());
        Target t = Target.attach(target.pid())) {
      String out = target.awaitOutput(o -> o.contains(" OK "), Duration.ofSeconds(5));
      long work = Long.parseLong(out.lines().filter(l -> l.startsWith("work=")).findFirst().orElseThrow().substring(5), 16);
      int tid = target.pid();
      for (int round = 0; round < 5; round++) {  // each time wherever the thread is: in spin() most often
        try (Target.Stopped s = t.stop()) {
          assertEquals(tid, t.syscall(Syscall.GETPID), "the control page and the gadgets found");
          Tracer.get().run(() -> putAtGadgetRet(tid));
          assertEquals(3 * 5 + 1, t.callFunction(work, 5), "a remote call, its frame below the stack pointer");
        }
        assertIntact(target);
      }
    }
  }

  private static void assertIntact(LiveProcess target) {
    int mark = target.output().length();
    String out = target.awaitOutput(o -> o.indexOf(" OK ", mark) >= 0, Duration.ofSeconds(5));
    assertTrue(target.isAlive(), out);
    assertFalse(out.contains("BAD"), out.lines().filter(l -> l.contains("BAD")).findFirst().orElse(""));
  }

  /**
   * The stopped thread as a bootstrap call let go leaves it at libc's {@code syscall; ret}
   * after the call: its frame below the red zone, its FPU image below the frame.
   */
  private static void putAtGadgetRet(int tid) {
    Memory memory = new Memory(tid);
    Gadgets g = Gadgets.find(tid, memory);
    MemorySegment scratch = Arena.ofAuto().allocate(8, 8);
    Registers saved = ThreadRegs.get(tid);
    long mask = Ptrace.getSigMask(tid, scratch);
    long frame = (saved.rsp() - RemoteSyscall.RED_ZONE - 64 - SigFrame.size()) & ~15L;
    byte[] fpu = XState.forSigFrame(new XState().read(tid));
    long low = (frame - fpu.length) & ~63L;
    memory.write(low, fpu);
    memory.write(frame, SigFrame.build(g.sigreturn(), SigFrame.resumeState(saved), mask, low, new byte[0]));
    ThreadRegs.set(tid, saved.copy().rip(g.syscallRet() + 2).rsp(frame).rax(0).set(Reg.ORIG_RAX, -1));
    Ptrace.setSigMask(tid, -1L, scratch);
  }

  /** The stopped thread as a released call leaves it at the pad's rt_sigreturn, slot 0 free. */
  private static void putAtPadSigreturn(int tid) {
    Memory memory = new Memory(tid);
    ControlPage page = ControlPage.find(ProcMaps.read(tid), memory);
    MemorySegment scratch = Arena.ofAuto().allocate(8, 8);
    Registers saved = ThreadRegs.get(tid);
    long mask = Ptrace.getSigMask(tid, scratch);
    assertEquals(0, page.owner(memory, 0), "slot 0 is free");
    long slot = page.slot(0);
    long frame = slot + ControlPage.SLOT_SIGFRAME;
    long fpstate = slot + ControlPage.SLOT_FPSTATE;
    memory.write(fpstate, XState.forSigFrame(new XState().read(tid)));
    memory.write(frame, SigFrame.build(page.done(), SigFrame.resumeState(saved), mask, fpstate, new byte[0]));
    ThreadRegs.set(tid, saved.copy().rip(page.base + ControlPage.SIGRETURN).rsp(frame + 8)
        .set(Reg.ORIG_RAX, -1).set(Reg.RBX, slot));
    Ptrace.setSigMask(tid, -1L, scratch);
  }
}
