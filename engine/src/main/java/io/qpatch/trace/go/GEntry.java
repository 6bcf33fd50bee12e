package io.qpatch.trace.go;

/** Where a Go function can find the running goroutine's g at its entry. */
public enum GEntry {
  /**
   * In R14: ABIInternal code, Go 1.17 and later (src/cmd/compile/abi-internal.md, "amd64
   * architecture": R14 is the current goroutine, fixed), with or without a stack check.
   */
  REGISTER,
  /**
   * Only in thread-local storage: ABI0 code (assembly, the ABI0 wrappers of Go functions,
   * every Go function before 1.17), which may use R14 for anything (runtime/go_tls.h).
   */
  TLS,
  /** Not known: a C function, or a Go one the tables do not classify. */
  UNKNOWN
}
