package io.qpatch.error;

/**
 * The user's input is wrong: a malformed or foreign ELF file, a symbol the target
 * lacks, an unknown pid, a bad option value. Nothing in any target has been changed
 * when this is thrown.
 */
public final class BadInputException extends QpatchException {
  public BadInputException(String message) {
    super(message);
  }

  public BadInputException(String message, Throwable cause) {
    super(message, cause);
  }
}
