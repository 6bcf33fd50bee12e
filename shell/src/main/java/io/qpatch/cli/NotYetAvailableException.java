package io.qpatch.cli;

/**
 * The command exists on the command line but its engine part is not in this build.
 * The command line prints {@code TOOL: <command> is not yet available in this build}
 * and exits with {@link Cli#EXIT_NOT_AVAILABLE}.
 */
public final class NotYetAvailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public NotYetAvailableException(String command) {
    super(command + " is not yet available in this build");
  }
}
