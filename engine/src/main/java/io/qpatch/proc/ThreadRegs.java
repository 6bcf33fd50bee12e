package io.qpatch.proc;

import io.qpatch.sys.Ptrace;
import io.qpatch.sys.Registers;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** PTRACE_GETREGS / SETREGS through one user_regs_struct buffer of the tracer thread. */
final class ThreadRegs {
  private static final ThreadLocal<MemorySegment> BUFFER =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(Registers.LAYOUT));

  private ThreadRegs() {}

  static Registers get(int tid) {
    MemorySegment buf = BUFFER.get();
    Ptrace.getRegs(tid, buf);
    return Registers.read(buf);
  }

  static void set(int tid, Registers regs) {
    MemorySegment buf = BUFFER.get();
    regs.write(buf);
    Ptrace.setRegs(tid, buf);
  }
}
