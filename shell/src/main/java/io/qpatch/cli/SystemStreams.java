package io.qpatch.cli;

import java.io.PrintStream;

/**
 * Snippets run in this JVM (JShell local execution) print to {@code System.out} and
 * {@code System.err}; while a script or shell runs, those are the command's own streams,
 * so a caller that gave the command other streams (a test, an embedding) gets the
 * script's output there too.
 */
final class SystemStreams implements AutoCloseable {
  private final PrintStream out = System.out;
  private final PrintStream err = System.err;

  private SystemStreams(Io io) {
    System.setOut(io.out());
    System.setErr(io.err());
  }

  static SystemStreams redirect(Io io) {
    return new SystemStreams(io);
  }

  @Override
  public void close() {
    System.setOut(out);
    System.setErr(err);
  }
}
