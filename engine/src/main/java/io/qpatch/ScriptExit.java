package io.qpatch;

/**
 * Thrown by {@link Qpatch#exit(int)} to end a script with an exit status; the runner
 * catches it by name and exits with the status in its message.
 */
public final class ScriptExit extends RuntimeException {
  private final int code;

  /** An exit with status {@code code}; no stack trace is recorded. */
  public ScriptExit(int code) {
    super(Integer.toString(code), null, false, false);
    this.code = code;
  }

  /** The exit status. */
  public int code() {
    return code;
  }
}
