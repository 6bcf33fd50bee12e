package io.qpatch.error;

/**
 * A failure the user can act on. Its message is one line that names the pid, file or
 * symbol involved and, where there is one, what to do about it; the command line
 * prints exactly that message and exits non-zero, never a stack trace.
 *
 * <p>Anything else that escapes (a {@link RuntimeException} that is not one of these)
 * is a bug in qpatch.
 */
public abstract sealed class QpatchException extends RuntimeException
    permits SyscallException, ProcessExitedException, BadInputException, RefusedException {

  protected QpatchException(String message) {
    super(message);
  }

  protected QpatchException(String message, Throwable cause) {
    super(message, cause);
  }
}
