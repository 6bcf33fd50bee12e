package io.qpatch.cli;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;

/**
 * The streams a command talks to. The real ones in {@link Main}; tests pass buffers so
 * that they can run the command line in-process and read what it printed.
 */
public record Io(PrintStream out, PrintStream err, InputStream in) {

  /** The process's own stdout, stderr and stdin. */
  public static Io system() {
    return new Io(System.out, System.err, System.in);
  }

  /** Streams that swallow everything: for the start-up training run. */
  static Io discarding() {
    PrintStream nowhere = new PrintStream(OutputStream.nullOutputStream());
    return new Io(nowhere, nowhere, InputStream.nullInputStream());
  }
}
