package io.qpatch.trace;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Pairs returns with calls to measure durations: one stack of open calls per goroutine
 * (goroutines move between OS threads, so a thread id would mix them up), or per thread
 * for C/C++ and for Go code without a goroutine of its own (g0 and gsignal all have goid
 * 0: one stack per thread for those).
 *
 * <p>A call that never returns through a probed ret (a frame unwound by a panic, a C++
 * exception or longjmp; a function that left by a tail call) is closed when a return
 * of a function below it on the stack arrives: {@link #pair} hands it back, {@link
 * Abandoned}, with the time it stayed open, so that it is shown closed and marked, never
 * silently dropped.
 */
final class CallPairing {
  private static final int MAX_DEPTH = 4096;

  /** An open call; {@code children} the time of the calls it made that ended (for self time). */
  private static final class Frame {
    final TracedFunction function;
    final long start;
    long children;

    Frame(TracedFunction function, long start) {
      this.function = function;
      this.start = start;
    }
  }

  /** A call closed without its return: open for {@code duration}, until a caller's return. */
  record Abandoned(TracedFunction function, long duration) {}

  /**
   * A call ended by a return: its duration, that less the time of the calls it made, and
   * the calls above it that never returned (innermost first), closed by this return.
   */
  record Paired(long duration, long self, List<Abandoned> abandoned) {}

  private final Map<Long, ArrayDeque<Frame>> stacks = new HashMap<>();

  void call(long key, TracedFunction function, long time) {
    ArrayDeque<Frame> stack = stacks.computeIfAbsent(key, k -> new ArrayDeque<>());
    if (stack.size() == MAX_DEPTH) stack.removeLast();
    stack.push(new Frame(function, time));
  }

  /**
   * The call that this return ends, or null when there is none open; its duration is
   * added to its caller's children, for the caller's self time, and so is each abandoned
   * call's to its own caller's.
   */
  Paired pair(long key, TracedFunction function, long time) {
    ArrayDeque<Frame> stack = stacks.get(key);
    if (stack == null) return null;
    int depth = 0;
    for (Iterator<Frame> it = stack.iterator(); it.hasNext(); depth++) {
      if (it.next().function.id() == function.id()) return popTo(stack, depth, time);
    }
    return null;
  }

  private static Paired popTo(ArrayDeque<Frame> stack, int depth, long time) {
    List<Abandoned> abandoned = depth == 0 ? List.of() : new ArrayList<>(depth);
    for (int i = 0; i < depth; i++) {
      Frame a = stack.pop();
      long open = time - a.start;
      abandoned.add(new Abandoned(a.function, open));
      stack.peek().children += open;
    }
    Frame f = stack.pop();
    long duration = time - f.start;
    Frame caller = stack.peek();
    if (caller != null) caller.children += duration;
    return new Paired(duration, duration - f.children, abandoned);
  }

  /** The stack key of an event: the goroutine, or the thread when there is no goroutine. */
  static long key(int tid, long goid) {
    return goid > 0 ? goid : -(long) tid - 1;
  }
}
