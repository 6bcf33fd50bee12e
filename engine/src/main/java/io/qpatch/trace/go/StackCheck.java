package io.qpatch.trace.go;

import io.qpatch.arch.x86_64.Gpr;
import io.qpatch.arch.x86_64.Instruction;
import java.util.List;
import java.util.Optional;

/**
 * The shape of a Go function's stack-growth prologue, which the tracing engine uses to
 * place a probe where it is cheap to emulate (the compare, or the conditional branch that
 * follows it) instead of single-stepping the entry.
 *
 * <p>The compiler emits (cmd/internal/obj/x86/obj6.go, {@code stacksplit} and
 * {@code loadG}), with g in R14 (ABIInternal) or loaded from TLS first (ABI0 and Go 1.16
 * and older: {@code mov REG, fs:[-8]}), and stackguard0 at g+0x10 (stackguard1, g+0x18,
 * for functions that run on the system stack):
 * <ul>
 *   <li>SMALL_FRAME, frame up to StackSmall (128 bytes): {@code cmp rsp, [g+0x10]; jbe}
 *   <li>LARGE_FRAME, up to StackBig (4096): {@code lea T, [rsp-N]; cmp T, [g+0x10]; jbe}
 *   <li>HUGE_FRAME: {@code mov T, rsp; sub T, N; jb morestack; cmp T, [g+0x10]; jbe}
 * </ul>
 * T is R12 (REGENTRYTMP0) under ABIInternal, AX before. NONE means no stack check was
 * recognised: a NOSPLIT function (marked {@code //go:nosplit}, or a small leaf the compiler
 * marks itself), or a form this class does not know (Go 1.16's huge-frame check);
 * probe the entry instruction then.
 */
public final class StackCheck {
  /** Which prologue form, see the class comment. */
  public enum Shape { SMALL_FRAME, LARGE_FRAME, HUGE_FRAME, NONE }

  /** Where the compare's g pointer comes from. */
  public enum GSource { R14, TLS }

  private final GoFunction function;
  private final Shape shape;
  private final List<Instruction> prologue;
  private final Instruction compare;
  private final Instruction branch;
  private final GSource gSource;
  private final Gpr gRegister;
  private final long frameReserve;

  StackCheck(GoFunction function, Shape shape, List<Instruction> prologue, Instruction compare,
      Instruction branch, GSource gSource, Gpr gRegister, long frameReserve) {
    this.function = function;
    this.shape = shape;
    this.prologue = List.copyOf(prologue);
    this.compare = compare;
    this.branch = branch;
    this.gSource = gSource;
    this.gRegister = gRegister;
    this.frameReserve = frameReserve;
  }

  public GoFunction function() {
    return function;
  }

  public Shape shape() {
    return shape;
  }

  public boolean hasCheck() {
    return shape != Shape.NONE;
  }

  /** The instruction at the function's entry. */
  public Instruction entry() {
    return prologue.getFirst();
  }

  /**
   * The instructions from the entry through the conditional branch (just the entry
   * instruction for NONE).
   */
  public List<Instruction> prologue() {
    return prologue;
  }

  /** The {@code cmp REG, [g+0x10]}. */
  public Optional<Instruction> compare() {
    return Optional.ofNullable(compare);
  }

  /** The {@code jbe} (or other jcc) right after the compare, to the morestack call. */
  public Optional<Instruction> branch() {
    return Optional.ofNullable(branch);
  }

  /** Where the branch goes when the stack must grow: the spill-and-call-morestack block. */
  public Optional<Long> morestackTarget() {
    return branch().filter(Instruction::isRelativeBranch).map(Instruction::branchTarget);
  }

  public Optional<GSource> gSource() {
    return Optional.ofNullable(gSource);
  }

  /** The register holding g at the compare: R14, or the one loaded from TLS. */
  public Optional<Gpr> gRegister() {
    return Optional.ofNullable(gRegister);
  }

  /** N in {@code rsp - N}: the value compared is {@code rsp - frameReserve()}. */
  public long frameReserve() {
    return frameReserve;
  }

  /** The value the compare tests against the stack guard, given RSP at the entry. */
  public long comparedValue(long rspAtEntry) {
    return rspAtEntry - frameReserve;
  }

  @Override
  public String toString() {
    if (!hasCheck()) return function.name() + ": no stack check; entry " + entry();
    return function.name() + ": " + shape + " " + compare + " / " + branch;
  }
}
