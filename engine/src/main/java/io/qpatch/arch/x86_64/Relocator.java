package io.qpatch.arch.x86_64;

import io.qpatch.error.RefusedException;
import java.util.Arrays;
import java.util.List;

/**
 * Moves the first instructions of a function (the bytes a hook's jump will overwrite)
 * into a trampoline, so that running the trampoline does what running those bytes in
 * place did, then continues in the original function. After frida-gum's
 * {@code gumx86relocator}.
 *
 * <p>What is fixed up: RIP-relative memory operands get a new disp32 for their new pc
 * (or, out of rel32 reach, {@code lea}/{@code mov} loads are rewritten through their own
 * destination register); relative jmp/call/jcc/loop are re-encoded for the new pc, rel8
 * widened to rel32, and to absolute forms when rel32 cannot reach.
 *
 * <p>What is refused: undecodable bytes, {@code int3}, a function that ends (ret, jmp,
 * ud2, hlt) before enough bytes, a branch into the displaced bytes (from the displaced
 * instructions or from the rest of the {@code code} given: pass the whole function so it
 * can be checked; jump tables are not followed), and relative forms this class does not
 * re-encode (xbegin, 0x66-prefixed branches).
 *
 * <p>A later branch to {@code address} itself is allowed and enters through the hook
 * again (Go's stack-growth path jumps back to the function entry this way).
 *
 * <p>Stateless: thread-safe as far as its {@link Decoder} is.
 *
 * <p>{@code endbr64} at the entry is copied like any other instruction. Indirect calls
 * still land on the hook's jmp rather than on an endbr64, which matters only where user
 * space IBT is enforced (not on Linux today); a caller that wants the marker kept in
 * place relocates from {@code address + 4} instead ({@link Instruction#isEndbr64()}).
 */
public final class Relocator {
  private final Decoder decoder;

  public Relocator(Decoder decoder) {
    this.decoder = decoder;
  }

  /**
   * Whether the instructions covering at least {@code minBytes} at the start of {@code
   * code} (which sits at {@code address}) can be moved, independent of where they go.
   */
  public RelocationCheck canRelocate(byte[] code, long address, int minBytes) {
    if (minBytes <= 0) throw new IllegalArgumentException("minBytes must be positive: " + minBytes);
    List<Instruction> insns = decoder.decodeAtLeast(code, address, minBytes);
    String refusal = RelocationRules.checkDisplaced(code, address, minBytes, insns);
    if (refusal != null) return RelocationCheck.refused(refusal);
    int consumed = covered(insns);
    refusal = RelocationRules.checkBranchesInto(insns, address, consumed);
    if (refusal == null) refusal = checkRestOfFunction(code, address, consumed);
    return refusal == null ? RelocationCheck.ok(consumed, insns) : RelocationCheck.refused(refusal);
  }

  /**
   * Like {@link #canRelocate(byte[], long, int)}, and also whether every fixup reaches
   * from a trampoline at {@code trampolinePc}.
   */
  public RelocationCheck canRelocate(byte[] code, long address, int minBytes, long trampolinePc) {
    RelocationCheck check = canRelocate(code, address, minBytes);
    if (!check.isOk()) return check;
    try {
      writeAll(check, address, new X86Writer(trampolinePc));
      return check;
    } catch (RelocationRules.CannotRelocate e) {
      return RelocationCheck.refused(e.getMessage());
    }
  }

  /**
   * Writes the relocated instructions at {@code out.pc()}, then a jump back to the first
   * byte not relocated (unless the last instruction never falls through: ret, jmp). On
   * refusal nothing is written to {@code out}.
   *
   * @return the number of bytes of the original function consumed (at least minBytes)
   * @throws RefusedException naming the address and the reason
   */
  public int relocate(byte[] code, long address, int minBytes, X86Writer out) {
    RelocationCheck check = canRelocate(code, address, minBytes);
    if (!check.isOk()) throw refusedAt(address, check.refusal());
    X86Writer scratch = new X86Writer(out.pc());
    try {
      writeAll(check, address, scratch);
    } catch (RelocationRules.CannotRelocate e) {
      throw refusedAt(address, e.getMessage());
    }
    out.putBytes(scratch.bytes());
    return check.consumed();
  }

  /**
   * Like {@link #relocate}, but without the jump back: the caller writes what follows
   * (the in-process tracer, a call it re-creates with the original return address).
   */
  public int relocateWithoutReturn(byte[] code, long address, int minBytes, X86Writer out) {
    RelocationCheck check = canRelocate(code, address, minBytes);
    if (!check.isOk()) throw refusedAt(address, check.refusal());
    X86Writer scratch = new X86Writer(out.pc());
    try {
      for (Instruction insn : check.instructions()) RelocationRules.writeOne(insn, scratch);
    } catch (RelocationRules.CannotRelocate e) {
      throw refusedAt(address, e.getMessage());
    }
    out.putBytes(scratch.bytes());
    return check.consumed();
  }

  /**
   * Addresses of every {@code ret} in {@code code} (a function body at {@code address}),
   * by linear sweep: returns after bytes that do not decode are not found.
   */
  public List<Long> findReturnSites(byte[] code, long address) {
    return decoder.decodeAll(code, address).stream()
        .filter(Instruction::isRet).map(Instruction::address).toList();
  }

  private static void writeAll(RelocationCheck check, long address, X86Writer out)
      throws RelocationRules.CannotRelocate {
    for (Instruction insn : check.instructions()) RelocationRules.writeOne(insn, out);
    if (!check.instructions().getLast().endsFlow()) out.putJmpAddress(address + check.consumed());
  }

  private String checkRestOfFunction(byte[] code, long address, int consumed) {
    if (code.length <= consumed) return null;
    byte[] rest = Arrays.copyOfRange(code, consumed, code.length);
    List<Instruction> later = decoder.decodeAll(rest, address + consumed);
    return RelocationRules.checkBranchesBack(later, address, consumed);
  }

  private static int covered(List<Instruction> insns) {
    return insns.stream().mapToInt(Instruction::length).sum();
  }

  private static RefusedException refusedAt(long address, String reason) {
    return new RefusedException(
        "cannot relocate the instructions at 0x" + Long.toHexString(address) + ": " + reason);
  }
}
