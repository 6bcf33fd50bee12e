package io.qpatch;

import io.qpatch.proc.Target;
import io.qpatch.sys.Reg;
import io.qpatch.sys.Registers;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A call of a function with a scripted breakpoint ({@link TargetProcess#onCall}), seen at
 * the function's first instruction: the arguments are in their registers and the return
 * address is on top of the stack. The callback can read and change the arguments, make the
 * function return a value without running it ({@link #returnValue}), or ask to see its
 * return ({@link #onReturn}).
 *
 * <p>Arguments follow the System V x86-64 calling convention (C and C++; psABI 3.2.3):
 * integer and pointer arguments in rdi, rsi, rdx, rcx, r8, r9, the result in rax.
 */
public final class Call extends StoppedThread {
  /** psABI 3.2.3, figure 3.4: the integer argument registers, in order. */
  private static final Reg[] ARGS = {Reg.RDI, Reg.RSI, Reg.RDX, Reg.RCX, Reg.R8, Reg.R9};

  private final String function;
  private boolean stubbed;
  private long stubValue;
  private List<Consumer<Return>> returnCallbacks = List.of();

  Call(Target target, String function, int tid, Registers regs) {
    super(target, tid, regs);
    this.function = function;
  }

  /** The function called, as it was named to {@code onCall}. */
  public String function() {
    return function;
  }

  /** Integer argument {@code i} (0 to 5): rdi, rsi, rdx, rcx, r8, r9. */
  public long arg(int i) {
    return regs.get(argRegister(i));
  }

  /** Changes integer argument {@code i} before the function runs. */
  public Call arg(int i, long value) {
    regs.set(argRegister(i), value);
    return this;
  }

  /** Where the function will return to: the 8 bytes on top of the stack at its entry. */
  public long returnAddress() {
    return readLong(entryStack());
  }

  /**
   * Makes the function return {@code value} (in rax) at once, without running it: a stub.
   * Callbacks given to {@link #onReturn} then see that value as the return.
   */
  public void returnValue(long value) {
    stubbed = true;
    stubValue = value;
  }

  /**
   * Runs {@code callback} when this call returns, on the same thread, where it sees (and
   * can change) the value returned. A one-shot breakpoint on the return address catches
   * it, matched to this call by thread and stack pointer, so recursion and other threads
   * returning to the same place are told apart. A call left by longjmp or an exception
   * never reports its return.
   */
  public void onReturn(Consumer<Return> callback) {
    if (returnCallbacks.isEmpty()) returnCallbacks = new ArrayList<>();
    returnCallbacks.add(callback);
  }

  /** The function, its first two arguments and the thread. */
  @Override
  public String toString() {
    return function + "(0x" + Long.toHexString(arg(0)) + ", 0x" + Long.toHexString(arg(1))
        + ", ...) on thread " + tid;
  }

  // ---- for the breakpoint that made this call --------------------------------------

  long entryStack() {
    return regs.rsp();
  }

  boolean isStubbed() {
    return stubbed;
  }

  long stubValue() {
    return stubValue;
  }

  List<Consumer<Return>> returnCallbacks() {
    return returnCallbacks;
  }

  /** Keeps the registers as they were at the entry for later {@link #arg} reads. */
  void keepRegisters() {
    regs = regs.copy();
  }

  private static Reg argRegister(int i) {
    if (i < 0 || i >= ARGS.length) {
      throw new IllegalArgumentException("argument " + i + ": only the 6 register arguments (0-5) can be read");
    }
    return ARGS[i];
  }
}
