package io.qpatch;

import io.qpatch.error.RefusedException;
import io.qpatch.proc.Target;
import io.qpatch.proc.Tracer;
import io.qpatch.sys.Registers;
import io.qpatch.trace.Breakpoints;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The scripted breakpoints of one process ({@link TargetProcess#onCall}) over the engine's
 * {@link Breakpoints}: one at each function's entry, and one-shot ones at the return
 * addresses of calls whose callback asked to see the return ({@link Call#onReturn}).
 *
 * <p>A return is matched to its call by thread and stack pointer: at the entry the return
 * address is at [rsp], so when that call returns its thread is at that address with rsp 8
 * higher. Several calls may wait at one return address (threads, recursion); its
 * breakpoint stays until the last has returned, and a thread that passes it meanwhile has
 * the instruction there carried out for it. A waiting call whose thread comes back to the
 * same address with a higher stack pointer was left without returning (longjmp, an
 * exception) and is dropped.
 *
 * <p>Hits run on the tracer thread; every table here is touched on that thread only.
 */
final class CallBreakpoints {
  /** A call waiting for its return: the thread, and its rsp once returned. */
  private record Waiting(int tid, long stack, Call call, OnCall handle) {}

  private final Target target;
  private final Callbacks callbacks;
  private final Tracer tracer = Tracer.get();
  private final List<OnCall> handles = new ArrayList<>();
  private final Map<Long, List<Waiting>> waiting = new HashMap<>();
  private Breakpoints breakpoints;

  CallBreakpoints(Target target, Callbacks callbacks) {
    this.target = target;
    this.callbacks = callbacks;
  }

  /**
   * Plants a breakpoint at {@code address}, the entry of {@code function}, with trampoline
   * areas near the files {@code near} (the function's module, the main program: where the
   * instructions at its entry and most return addresses lie).
   */
  OnCall add(String function, long address, List<String> near, Consumer<Call> callback) {
    OnCall h = new OnCall(function, address, callback, this);
    tracer.run(() -> plantEntry(h, near));
    return h;
  }

  /** True while a breakpoint is planted. */
  boolean any() {
    return tracer.call(() -> !handles.isEmpty());
  }

  @SuppressWarnings("try") // the stop is held for the body and released by close()
  private void plantEntry(OnCall h, List<String> near) {
    try (Target.Stopped stopped = target.stop()) {
      if (breakpoints == null) {
        breakpoints = new Breakpoints(target);
        breakpoints.start(true);
      }
      for (String file : near) breakpoints.reserveNear(file);
      breakpoints.plant(h.address(), true, (tid, regs) -> onEntry(h, tid, regs));
      handles.add(h);
    }
  }

  // ---- hits: on the tracer thread, the thread stopped ----------------------------

  private boolean onEntry(OnCall h, int tid, Registers regs) {
    Call c = new Call(target, h.function(), tid, regs);
    if (!callbacks.run(() -> h.call(c))) {
      h.countMissed();
      return true;
    }
    if (c.isStubbed()) {
      long back = c.returnAddress();
      c.keepRegisters();
      regs.rax(c.stubValue()).rip(back).rsp(regs.rsp() + 8); // ret, without running the body
      returned(h, c, regs);
      return false;
    }
    if (!c.returnCallbacks().isEmpty() && h.isActive()) waitForReturn(h, c, regs);
    return true;
  }

  private void waitForReturn(OnCall h, Call c, Registers regs) {
    long back;
    try {
      back = c.returnAddress();
      if (!waiting.containsKey(back)) {
        breakpoints.plant(back, false, (tid, r) -> onReturn(back, tid, r));
        waiting.put(back, new ArrayList<>());
      }
    } catch (RefusedException | io.qpatch.error.SyscallException e) {
      h.failed(e);
      return;
    }
    c.keepRegisters();
    waiting.get(back).add(new Waiting(c.tid(), regs.rsp() + 8, c, h));
  }

  private boolean onReturn(long back, int tid, Registers regs) {
    List<Waiting> list = waiting.get(back);
    Waiting match = null;
    for (Iterator<Waiting> it = list.iterator(); it.hasNext(); ) {
      Waiting w = it.next();
      if (w.tid() != tid || w.stack() > regs.rsp()) continue;
      if (w.stack() == regs.rsp()) match = w;
      it.remove(); // the match, or a deeper call of this thread that never returned
    }
    if (list.isEmpty()) {
      waiting.remove(back);
      breakpoints.unplant(back); // the thread then runs the restored instruction in place
    }
    if (match != null) returned(match.handle(), match.call(), regs);
    return true;
  }

  private void returned(OnCall h, Call c, Registers regs) {
    Return r = new Return(target, c, regs);
    callbacks.run(() -> {
      for (Consumer<Return> f : c.returnCallbacks()) h.run(f, r);
    });
  }

  // ---- removal -------------------------------------------------------------------

  /** Takes out {@code h}'s breakpoint and the returns its calls wait for. */
  void remove(OnCall h) {
    tracer.run(() -> {
      if (!handles.remove(h)) return;
      h.removed();
      if (breakpoints == null || !target.isAlive()) return;
      breakpoints.unplant(h.address());
      for (Iterator<Map.Entry<Long, List<Waiting>>> it = waiting.entrySet().iterator(); it.hasNext(); ) {
        Map.Entry<Long, List<Waiting>> e = it.next();
        e.getValue().removeIf(w -> w.handle() == h);
        if (!e.getValue().isEmpty()) continue;
        breakpoints.unplant(e.getKey());
        it.remove();
      }
    });
  }

  /**
   * Takes every breakpoint out with the world stopped and waits until no hit is pending:
   * after this the process can be let go (or traced).
   */
  void removeAll() {
    tracer.run(() -> {
      for (OnCall h : List.copyOf(handles)) h.removed();
      handles.clear();
      waiting.clear();
      if (breakpoints != null && target.isAlive()) breakpoints.removeAll();
      breakpoints = null;
    });
  }
}
