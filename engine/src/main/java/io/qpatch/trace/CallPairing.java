package io.qpatch.trace;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Pairs returns with calls to measure durations: one stack of open calls per goroutine
 * (goroutines move between OS threads, so a thread id would mix them up), or per thread
 * for C/C++ and for Go code without a goroutine of its own (g0 and gsignal all have goid
 * 0: one stack per thread for those).
 *
 * <p>Calls that never return through a probed ret (tail calls, panics, longjmp) are
 * skipped over: a return pops its own function's frame and every frame above it.
 */
final class CallPairing {
  private static final int MAX_DEPTH = 4096;

  /** An open call; {@code children} the time of the calls it made that returned (for self time). */
  private static final class Frame {
    final int function;
    final long start;
    long children;

    Frame(int function, long start) {
      this.function = function;
      this.start = start;
    }
  }

  /** A call ended by a return: its duration, and that less the time of the calls it made. */
  record Paired(long duration, long self) {}

  private final Map<Long, ArrayDeque<Frame>> stacks = new HashMap<>();

  void call(long key, int function, long time) {
    ArrayDeque<Frame> stack = stacks.computeIfAbsent(key, k -> new ArrayDeque<>());
    if (stack.size() == MAX_DEPTH) stack.removeLast();
    stack.push(new Frame(function, time));
  }

  /** The duration of the call that this return ends, or -1 when there is none open. */
  long ret(long key, int function, long time) {
    Paired p = pair(key, function, time);
    return p == null ? -1 : p.duration();
  }

  /**
   * The call that this return ends, or null when there is none open; its duration is
   * added to its caller's children, for the caller's self time.
   */
  Paired pair(long key, int function, long time) {
    ArrayDeque<Frame> stack = stacks.get(key);
    if (stack == null) return null;
    int depth = 0;
    for (Iterator<Frame> it = stack.iterator(); it.hasNext(); depth++) {
      Frame f = it.next();
      if (f.function != function) continue;
      for (int i = 0; i <= depth; i++) stack.pop();
      long duration = time - f.start;
      Frame caller = stack.peek();
      if (caller != null) caller.children += duration;
      return new Paired(duration, duration - f.children);
    }
    return null;
  }

  /** The stack key of an event: the goroutine, or the thread when there is no goroutine. */
  static long key(int tid, long goid) {
    return goid > 0 ? goid : -(long) tid - 1;
  }
}
