package io.qpatch.trace.go;

import io.qpatch.arch.x86_64.Gpr;
import java.util.List;
import java.util.Optional;

/**
 * How Go functions of a binary receive arguments and find the current goroutine.
 *
 * <p>REGISTER is ABIInternal on amd64 since Go 1.17 (src/cmd/compile/abi-internal.md,
 * "amd64 architecture"): integer arguments and results in RAX, RBX, RCX, RDI, RSI, R8, R9,
 * R10, R11; floating point in X0-X14; R14 holds the current g; R15 is the GOT pointer in
 * dynamically linked code; X15 is zero. Assembly functions keep ABI0 and load g from TLS.
 *
 * <p>STACK is ABI0, Go 1.16 and older: every argument and result on the stack, g read from
 * thread-local storage at fs:-8 (runtime/go_tls.h, {@code get_tls}; the linker places
 * runtime.tlsg at -8 on linux/amd64).
 */
public enum GoAbi {
  REGISTER,
  STACK;

  private static final List<Gpr> INTEGER_ARGS = List.of(
      Gpr.RAX, Gpr.RBX, Gpr.RCX, Gpr.RDI, Gpr.RSI, Gpr.R8, Gpr.R9, Gpr.R10, Gpr.R11);

  /** The TLS slot of g relative to the fs base on linux/amd64. */
  public static final int G_TLS_OFFSET = -8;

  /** The number of X registers ABIInternal passes floats in (X0-X14). */
  public static final int FLOAT_ARG_REGISTERS = 15;

  /** The ABI Go {@code version} compiles Go functions to on amd64. */
  public static GoAbi forVersion(GoVersion version) {
    return version.atLeast(1, 17) ? REGISTER : STACK;
  }

  /** RAX, RBX, RCX, RDI, RSI, R8, R9, R10, R11; empty for the stack ABI. */
  public List<Gpr> integerArgRegisters() {
    return this == REGISTER ? INTEGER_ARGS : List.of();
  }

  /** R14 under the register ABI; empty under the stack ABI (g is at fs:-8). */
  public Optional<Gpr> gRegister() {
    return this == REGISTER ? Optional.of(Gpr.R14) : Optional.empty();
  }
}
