package io.qpatch.error;

/**
 * A system call failed. Carries the operation (e.g. {@code "ptrace(PTRACE_SEIZE)"}),
 * the pid or tid it acted on (0 when none) and errno. The message names all three
 * and, for the common cases, what the user can do.
 */
public final class SyscallException extends QpatchException {
  private final String operation;
  private final int pid;
  private final int errno;

  public SyscallException(String operation, int pid, int errno, String message) {
    super(message);
    this.operation = operation;
    this.pid = pid;
    this.errno = errno;
  }

  public String operation() {
    return operation;
  }

  public int pid() {
    return pid;
  }

  public int errno() {
    return errno;
  }
}
