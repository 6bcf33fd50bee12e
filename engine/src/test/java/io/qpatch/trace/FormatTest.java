package io.qpatch.trace;

import io.qpatch.trace.go.GEntry;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The seed's line formats, exactly. */
class FormatTest {
  private static final TracedFunction GO = new TracedFunction(0, "runtime.check", 0x442160, 0x100, Abi.GO_REGS, GEntry.REGISTER);
  private static final TracedFunction C = new TracedFunction(1, "add6", 0x401126, 0x20, Abi.SYSV, GEntry.UNKNOWN);

  private static String line(TraceEvent e) {
    StringBuilder sb = new StringBuilder();
    TextFormat.format(e, sb);
    return sb.toString();
  }

  @Test
  void go_call_line_is_the_seeds() {
    long[] v = {0x52cb80, 0x2100800, 0x52c820, 0x1002, 0x52cc10, 0x1ff, 0xf, 0x7fe50f6e0860L, 0x212};
    assertEquals("mid[00009747] goid[000000]: [0x442160] runtime.check <-( 0x52cb80, 0x2100800, 0x52c820,"
        + " 0x1002, 0x52cc10, 0x1ff, 0xf, 0x7fe50f6e0860, 0x212, ... )",
        line(new TraceEvent(ProbeSite.Kind.CALL, 9747, 0, 1, GO, v, -1, null)));
  }

  @Test
  void c_call_and_return_lines() {
    long[] args = {1, 2, 3, 4, 5, 6};
    assertEquals("tid[00000042]: [0x401126] add6 <-( 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, ... )",
        line(new TraceEvent(ProbeSite.Kind.CALL, 42, TraceEvent.NO_GOID, 1, C, args, -1, null)));
    assertEquals("tid[00000042]: [0x401126] add6 ->( 0x15, 0x0 ) 1.500us",
        line(new TraceEvent(ProbeSite.Kind.RETURN, 42, TraceEvent.NO_GOID, 1, C, new long[] {0x15, 0}, 1500, null)));
  }

  @Test
  void unknown_goid_and_decoded_arguments() {
    assertEquals("mid[00000007] goid[------]: [0x442160] runtime.check(x=41, s=\"hi\")",
        line(new TraceEvent(ProbeSite.Kind.CALL, 7, TraceEvent.NO_GOID, 1, GO, new long[9], -1, "x=41, s=\"hi\"")));
  }

  @Test
  void returns_pair_per_goroutine_and_close_the_frames_above_that_never_returned() {
    TracedFunction f = new TracedFunction(10, "main.f", 0x1000, 0x10, Abi.GO_REGS, GEntry.REGISTER);
    TracedFunction g = new TracedFunction(11, "main.g", 0x2000, 0x10, Abi.GO_REGS, GEntry.REGISTER);
    CallPairing p = new CallPairing();
    p.call(CallPairing.key(1, 5), f, 100);
    p.call(CallPairing.key(1, 5), g, 200); // unwound by a panic, or left by a tail call
    p.call(CallPairing.key(2, 6), f, 150); // another goroutine, same function
    CallPairing.Paired five = p.pair(CallPairing.key(2, 5), f, 400); // goroutine 5 moved to thread 2
    assertEquals(300, five.duration());
    assertEquals(java.util.List.of(new CallPairing.Abandoned(g, 200)), five.abandoned(), "g closed, marked, with its time");
    assertEquals(100, five.self(), "g's time is f's callee's, not f's own");
    assertEquals(null, p.pair(CallPairing.key(1, 5), g, 500), "closed already");
    assertEquals(350, p.pair(CallPairing.key(1, 6), f, 500).duration());
  }

  @Test
  void a_call_closed_without_its_return_says_so() {
    assertEquals("tid[00000042]: [0x401126] add6 -> (no return seen) 2.000us",
        line(TraceEvent.noReturnSeen(42, TraceEvent.NO_GOID, 1, C, 2000)));
  }

  /** A caller's self time leaves out its traced callees'; max is the longest call. */
  @Test
  void summary_rows_have_total_self_mean_and_max() {
    TracedFunction outer = new TracedFunction(2, "main.outer", 0x1000, 0x10, Abi.GO_REGS, GEntry.REGISTER);
    TracedFunction inner = new TracedFunction(3, "main.inner", 0x2000, 0x10, Abi.GO_REGS, GEntry.REGISTER);
    Summary s = new Summary();
    long[] none = new long[9];
    s.accept(new TraceEvent(ProbeSite.Kind.CALL, 1, 7, 0, outer, none, -1, null));
    s.accept(new TraceEvent(ProbeSite.Kind.CALL, 1, 7, 10, inner, none, -1, null));
    s.accept(new TraceEvent(ProbeSite.Kind.RETURN, 1, 7, 30, inner, none, 20, null));
    s.accept(new TraceEvent(ProbeSite.Kind.CALL, 2, 7, 40, inner, none, -1, null)); // goroutine 7 on thread 2
    s.accept(new TraceEvent(ProbeSite.Kind.RETURN, 2, 7, 90, inner, none, 50, null));
    s.accept(new TraceEvent(ProbeSite.Kind.RETURN, 1, 7, 100, outer, none, 100, null));
    assertEquals(java.util.List.of(new Summary.Row("main.outer", 1, 1, 100, 30, 100),
        new Summary.Row("main.inner", 2, 2, 70, 70, 50)), s.rows());
    assertEquals("""
        FUNCTION        CALLS          TOTAL           SELF         MEAN          MAX
        main.outer          1         100 ns          30 ns       100 ns       100 ns
        main.inner          2          70 ns          70 ns        35 ns        50 ns
        """, s.toString());
  }
}
