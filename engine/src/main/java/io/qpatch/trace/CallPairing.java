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

  private record Frame(int function, long start) {}

  private final Map<Long, ArrayDeque<Frame>> stacks = new HashMap<>();

  void call(long key, int function, long time) {
    ArrayDeque<Frame> stack = stacks.computeIfAbsent(key, k -> new ArrayDeque<>());
    if (stack.size() == MAX_DEPTH) stack.removeLast();
    stack.push(new Frame(function, time));
  }

  /** The duration of the call that this return ends, or -1 when there is none open. */
  long ret(long key, int function, long time) {
    ArrayDeque<Frame> stack = stacks.get(key);
    if (stack == null) return -1;
    int depth = 0;
    for (Iterator<Frame> it = stack.iterator(); it.hasNext(); depth++) {
      Frame f = it.next();
      if (f.function() != function) continue;
      for (int i = 0; i <= depth; i++) stack.pop();
      return time - f.start();
    }
    return -1;
  }

  /** The stack key of an event: the goroutine, or the thread when there is no goroutine. */
  static long key(int tid, long goid) {
    return goid > 0 ? goid : -(long) tid - 1;
  }
}
