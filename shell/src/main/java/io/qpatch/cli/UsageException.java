package io.qpatch.cli;

/**
 * The command line itself is wrong: an unknown option, a missing option or operand, a
 * malformed value. The command line prints the message and the usage of the command
 * to stderr and exits with {@link Cli#EXIT_USAGE}.
 */
final class UsageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String usage;

  UsageException(String message, String usage) {
    super(message);
    this.usage = usage;
  }

  /** The help text of the command that was being parsed. */
  String usage() {
    return usage;
  }
}
