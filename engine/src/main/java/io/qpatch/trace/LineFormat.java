package io.qpatch.trace;

import java.io.PrintStream;

/**
 * An output format that writes one line per event ({@link TextFormat}, {@link
 * JsonFormat}): return events only when asked for, each line built in one reused buffer
 * and handed to the stream in one write.
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
    // As bytes, past PrintStream's character encoder: a third of a traced call's cost in
    // the reader went to that path (UTF-8 is the encoding every stream here is made with).
    byte[] bytes = line.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    out.write(bytes, 0, bytes.length);
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
