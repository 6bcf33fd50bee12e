package io.qpatch.trace;

import io.qpatch.arch.x86_64.Cond;
import io.qpatch.sys.Reg;
import io.qpatch.sys.Registers;

/**
 * The instruction a breakpoint displaced, and how the ptrace backend carries it out
 * without single-stepping (a single step costs a second stop, ~14 us here): the common
 * prologue instructions are emulated on the stopped thread's registers; anything else
 * runs out of line from a copy ({@link Relocated}: see {@link OutOfLine}).
 */
public sealed interface Displaced {
  /**
   * Does what the instruction at the breakpoint would have done: {@code regs} are the
   * thread's registers at the trap (rip already reset to the instruction's address).
   */
  void execute(Registers regs, TargetMemory memory);

  /** jcc: the branch is taken or not by the flags; the stack check's counts only when not. */
  record Jcc(Cond cond, long target, long next, boolean skipWhenTaken) implements Displaced {
    @Override
    public void execute(Registers regs, TargetMemory memory) {
      regs.rip(Flags.holds(cond, regs.get(Reg.EFLAGS)) ? target : next);
    }
  }

  /** endbr64 and nops: nothing but moving on. */
  record Skip(long next) implements Displaced {
    @Override
    public void execute(Registers regs, TargetMemory memory) {
      regs.rip(next);
    }
  }

  /** push r64. */
  record Push(Reg reg, long next) implements Displaced {
    @Override
    public void execute(Registers regs, TargetMemory memory) {
      long sp = regs.rsp() - 8;
      memory.write8(sp, regs.get(reg));
      regs.rsp(sp).rip(next);
    }
  }

  /** mov r64, r64, or mov r32, r32 (which zero-extends into the 64-bit register). */
  record MovRegReg(Reg dst, Reg src, boolean wide, long next) implements Displaced {
    @Override
    public void execute(Registers regs, TargetMemory memory) {
      long v = regs.get(src);
      regs.set(dst, wide ? v : v & 0xffffffffL).rip(next);
    }
  }

  /** sub rsp, imm: a frame allocation, flags set as the real sub sets them. */
  record SubRsp(long imm, long next) implements Displaced {
    @Override
    public void execute(Registers regs, TargetMemory memory) {
      long sp = regs.rsp();
      regs.set(Reg.EFLAGS, Flags.afterSub(regs.get(Reg.EFLAGS), sp, imm));
      regs.rsp(sp - imm).rip(next);
    }
  }

  /**
   * call rel32 or call r64: push the return address, jump. Emulated rather than run out
   * of line, where the pushed return address would point into the trampoline (Go's stack
   * unwinder and C++ exception unwinding must only ever see real code addresses).
   */
  record Call(long target, Reg targetRegister, long next) implements Displaced {
    @Override
    public void execute(Registers regs, TargetMemory memory) {
      long to = targetRegister == null ? target : regs.get(targetRegister);
      long sp = regs.rsp() - 8;
      memory.write8(sp, next);
      regs.rsp(sp).rip(to);
    }
  }

  /** ret: pop the return address. */
  record Ret() implements Displaced {
    @Override
    public void execute(Registers regs, TargetMemory memory) {
      long sp = regs.rsp();
      regs.rip(memory.read8(sp)).rsp(sp + 8);
    }
  }

  /**
   * Any other instruction: the backend copies it (relocated) into a trampoline followed
   * by a jump back, and resolves this to an {@link OutOfLine} when it installs the probe.
   *
   * @param function the whole function's bytes, starting at the probed instruction's
   *     function entry {@code functionAddress} (the relocator checks them)
   * @param functionAddress run-time address of {@code function[0]}
   */
  record Relocated(byte[] function, long functionAddress) implements Displaced {
    @Override
    public void execute(Registers regs, TargetMemory memory) {
      throw new IllegalStateException("not installed: the backend places it out of line");
    }

    @Override
    public String toString() {
      return "Relocated[" + function.length + " bytes at 0x" + Long.toHexString(functionAddress) + "]";
    }
  }

  /** A {@link Relocated} instruction whose copy runs at {@code trampoline}. */
  record OutOfLine(long trampoline) implements Displaced {
    @Override
    public void execute(Registers regs, TargetMemory memory) {
      regs.rip(trampoline);
    }
  }
}
