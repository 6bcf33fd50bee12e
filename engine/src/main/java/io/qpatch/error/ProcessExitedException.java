package io.qpatch.error;

/**
 * The target process (or the thread being operated on) is gone. {@code status} is the
 * raw wait status when it is known, else -1.
 */
public final class ProcessExitedException extends QpatchException {
  private final int pid;
  private final int status;

  public ProcessExitedException(int pid, int status, String message) {
    super(message);
    this.pid = pid;
    this.status = status;
  }

  public ProcessExitedException(int pid, int status) {
    this(pid, status, "process " + pid + " has exited" + describe(status));
  }

  private static String describe(int status) {
    if (status < 0) return "";
    if ((status & 0x7f) == 0) return " with code " + ((status >> 8) & 0xff);
    return " killed by signal " + (status & 0x7f);
  }

  public int pid() {
    return pid;
  }

  public int status() {
    return status;
  }
}
