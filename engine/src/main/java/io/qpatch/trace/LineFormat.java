package io.qpatch.trace;

import java.io.PrintStream;

/**
 * An output format that writes one line per event ({@link TextFormat}, {@link
 * JsonFormat}): return events only when asked for, each line built in one reused buffer
 * and handed to the stream in one append.
 */
abstract class LineFormat implements EventSink {
  private final PrintStream out;
  private final boolean returns;
  private final StringBuilder line = new StringBuilder(256);

  /** @param returns print return lines (calls are always printed) */
  LineFormat(PrintStream out, boolean returns) {
    this.out = out;
    this.returns = returns;
  }

  /** Appends the line for {@code e}, without its newline. */
  abstract void append(TraceEvent e, StringBuilder line);

  @Override
  public final synchronized void accept(TraceEvent e) {
    if (!e.isCall() && !returns) return;
    line.setLength(0);
    append(e, line);
    line.append('\n');
    out.append(line);
  }

  @Override
  public final synchronized void flush() {
    out.flush();
  }

  @Override
  public final synchronized void finish(TraceReport report) {
    out.flush();
  }
}
