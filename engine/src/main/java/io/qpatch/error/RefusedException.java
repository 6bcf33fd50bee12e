package io.qpatch.error;

/**
 * qpatch declined to do something because it could not be done safely (a thread's pc
 * inside bytes to be rewritten, a prologue that cannot be relocated, patches rolled
 * back out of order). The message says why and what would make it possible. The
 * target is left as it was before the refused operation.
 */
public final class RefusedException extends QpatchException {
  public RefusedException(String message) {
    super(message);
  }
}
