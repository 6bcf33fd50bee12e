package io.qpatch.trace;

import java.io.PrintStream;

/**
 * The seed's line format, one line per event:
 *
 * <pre>
 * mid[00009747] goid[000001]: [0x442160] main.work &lt;-( 0x1, 0x2, ..., 0x212, ... )
 * tid[00009747]: [0x401126] add(int, int) &lt;-( 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, ... )
 * </pre>
 *
 * Go calls show RAX, RBX, RCX, RDI, RSI, R8, R9, R10, R11; C/C++ calls RDI, RSI, RDX,
 * RCX, R8, R9 (the "..." says more may be on the stack). With returns, a return line
 * shows the result registers and the duration:
 * {@code mid[..] goid[..]: [0x442160] main.work ->( 0x2, ... ) 1.234us}. A goid that
 * cannot be known at the call prints as {@code ------}. With decoded arguments a call
 * reads {@code main.f(x=41, s="hi")} and a return {@code main.pair -> (~r0=10, ~r1=nil) 1.234us}.
 */
public final class TextFormat extends LineFormat {
  /** @param returns print return lines (calls are always printed) */
  public TextFormat(PrintStream out, boolean returns) {
    super(out, returns);
  }

  @Override
  void append(TraceEvent e, StringBuilder line) {
    format(e, line);
  }

  /** Appends the line for {@code e} (without newline) to {@code sb}. */
  public static void format(TraceEvent e, StringBuilder sb) {
    if (e.function().isGo()) {
      sb.append("mid[");
      pad(sb, Long.toString(e.tid()), 8, '0');
      sb.append("] goid[");
      if (e.hasGoid()) pad(sb, Long.toString(e.goid()), 6, '0');
      else sb.append("------");
    } else {
      sb.append("tid[");
      pad(sb, Long.toString(e.tid()), 8, '0');
    }
    sb.append("]: [0x").append(Long.toHexString(e.function().entry())).append("] ");
    sb.append(e.function().name());
    if (e.isCall() && e.decoded() != null) {
      sb.append('(').append(e.decoded()).append(')');
    } else if (e.isCall()) {
      registers(sb, " <-( ", e.values(), ", ... )");
    } else {
      if (e.noReturnSeen()) sb.append(" -> (no return seen)");
      else if (e.decoded() != null) sb.append(" -> (").append(e.decoded()).append(')');
      else registers(sb, " ->( ", e.values(), " )");
      if (e.durationNanos() >= 0) sb.append(' ').append(micros(e.durationNanos())).append("us");
    }
  }

  private static void registers(StringBuilder sb, String open, long[] values, String close) {
    sb.append(open);
    for (int i = 0; i < values.length; i++) {
      if (i > 0) sb.append(", ");
      sb.append("0x").append(Long.toHexString(values[i]));
    }
    sb.append(close);
  }

  static String micros(long nanos) {
    return String.format(java.util.Locale.ROOT, "%.3f", nanos / 1000.0);
  }

  private static void pad(StringBuilder sb, String s, int width, char c) {
    for (int i = s.length(); i < width; i++) sb.append(c);
    sb.append(s);
  }
}
