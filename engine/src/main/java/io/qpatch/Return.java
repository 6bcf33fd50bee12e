package io.qpatch;

import io.qpatch.proc.Target;
import io.qpatch.sys.Registers;

/**
 * A return from a function whose {@link Call} asked for it ({@link Call#onReturn}), seen
 * at the return address: the value is in rax and the caller has not run yet, so the value
 * can still be changed.
 */
public final class Return extends StoppedThread {
  private final Call call;

  Return(Target target, Call call, Registers regs) {
    super(target, call.tid(), regs);
    this.call = call;
  }

  /** The call returning, with its arguments as they were at its entry. */
  public Call call() {
    return call;
  }

  /** The function returning. */
  public String function() {
    return call.function();
  }

  /** The integer or pointer value returned (rax). */
  public long value() {
    return regs.rax();
  }

  /** Makes the caller see {@code value} as the function's result instead. */
  public void returnValue(long value) {
    regs.rax(value);
  }

  /** The function, the value returned and the thread. */
  @Override
  public String toString() {
    return call.function() + " returned 0x" + Long.toHexString(value()) + " on thread " + tid;
  }
}
