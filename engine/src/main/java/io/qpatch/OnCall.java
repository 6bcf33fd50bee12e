package io.qpatch;

import java.util.function.Consumer;

/**
 * A scripted breakpoint made by {@link TargetProcess#onCall}: how often it was hit, how
 * often its callback failed, and {@link #remove()} to take it out (the function's byte is
 * restored). Detaching the process removes every one.
 */
public final class OnCall {
  private final String function;
  private final long address;
  private final Consumer<Call> callback;
  private final CallBreakpoints owner;
  private final Failures failures;
  private volatile long count;
  private volatile long missed;
  private volatile boolean active = true;

  OnCall(String function, long address, Consumer<Call> callback, CallBreakpoints owner) {
    this.function = function;
    this.address = address;
    this.callback = callback;
    this.owner = owner;
    this.failures = new Failures("onCall(" + function + ")");
  }

  /** The function, as it was named to {@code onCall}. */
  public String function() {
    return function;
  }

  /** Address of the breakpoint: the function's first instruction. */
  public long address() {
    return address;
  }

  /** Calls whose callback ran (while the script waited in {@code run} or a trace). */
  public long count() {
    return count;
  }

  /** Calls let through untouched because the script was busy elsewhere. */
  public long missed() {
    return missed;
  }

  /** Calls whose callback (or return callback) threw. */
  public long failures() {
    return failures.count();
  }

  /** False once removed (or the process detached). */
  public boolean isActive() {
    return active;
  }

  /** Takes the breakpoint out, and any return it was still waiting for. Idempotent. */
  public void remove() {
    owner.remove(this);
  }

  /** The function, its address and the counts. */
  @Override
  public String toString() {
    return "onCall(" + function + " at 0x" + Long.toHexString(address) + "): " + count + " calls"
        + (missed == 0 ? "" : ", " + missed + " missed") + (failures() == 0 ? "" : ", "
        + failures() + " failed") + (active ? "" : ", removed");
  }

  // ---- on the tracer thread ------------------------------------------------------

  void call(Call c) {
    count++;
    run(callback, c);
  }

  <T> void run(Consumer<T> f, T value) {
    failures.guard(f, value);
  }

  void countMissed() {
    missed++;
  }

  void failed(RuntimeException e) {
    failures.add(e);
  }

  void removed() {
    active = false;
    failures.reportRest();
  }
}
