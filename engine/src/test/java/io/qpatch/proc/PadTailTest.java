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
 * A thread let go for a system call frees its control-page slot two instructions before the
 * rt_sigreturn that reads its frame from that slot. Held again right there (a remote
 * operation that follows at once, on a loaded machine), the next claim of the slot must not
 * overwrite that frame: the thread is first run through its rt_sigreturn. Without that it
 * restored the next operation's frame instead of its own, again and again, and hung.
 *
 * <p>The moment is made exactly rather than waited for: the thread's state is put in a free
 * slot's frame, as {@code RemoteSyscall.released} does, and its registers at the pad's
 * rt_sigreturn, with every signal blocked, as they are there.
 */
class PadTailTest {
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
      int mark = target.output().length();
      String out = target.awaitOutput(o -> o.indexOf(" OK ", mark) >= 0, Duration.ofSeconds(5));
      assertTrue(target.isAlive(), out);
      assertFalse(out.contains("BAD"), out.lines().filter(l -> l.contains("BAD")).findFirst().orElse(""));
    }
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
