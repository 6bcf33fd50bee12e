package io.qpatch.patch;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * One function of the target that a patch takes over, as the patch's record keeps it.
 *
 * @param name the target function's symbol name (mangled for C++)
 * @param module the file name of the module that defines it ("libc.so.6")
 * @param kind replace or hook
 * @param address the function's entry in the target
 * @param displaced how many bytes at the entry no thread may be inside while the jump goes
 *     in or out: those the trampoline's relocated copy covers, at least the 5 of the jump
 *     (which may take a short function's padding)
 * @param original the first {@link #ORIGINAL_BYTES} bytes of the function as the compiler
 *     made them, before any patch: what a rollback of the first patch puts back, and what
 *     the trampoline is relocated from
 * @param stub this patch's stub for the function: the entry jump goes there
 * @param trampoline the relocated original prologue followed by a jump back into the
 *     function, in the same stub area
 * @param replacement the patch's function that takes over (the replacement or the hook)
 * @param entryBefore the 5 entry bytes this patch's activation overwrote (the original
 *     bytes, or a jump to the stub of the patch below it); empty before activation
 * @param previous where this patch's stub sends calls while the patch is not active, and
 *     what a hook's calls to the function reach: the trampoline, or the stub of the patch
 *     below
 */
public record Redirect(
    String name,
    String module,
    RedirectKind kind,
    long address,
    int displaced,
    byte[] original,
    long stub,
    long trampoline,
    long replacement,
    byte[] entryBefore,
    long previous) {

  /** Enough for the longest displaced run: an instruction starting at byte 4, 15 long. */
  public static final int ORIGINAL_BYTES = 24;

  /** The size of the entry jump ({@code e9 rel32}). */
  public static final int ENTRY_JUMP_SIZE = 5;

  public Redirect {
    if (original.length != ORIGINAL_BYTES) {
      throw new IllegalArgumentException("original must hold " + ORIGINAL_BYTES + " bytes");
    }
    if (entryBefore.length != 0 && entryBefore.length != ENTRY_JUMP_SIZE) {
      throw new IllegalArgumentException("entryBefore must be empty or " + ENTRY_JUMP_SIZE + " bytes");
    }
    original = original.clone();
    entryBefore = entryBefore.clone();
  }

  @Override
  public byte[] original() {
    return original.clone();
  }

  @Override
  public byte[] entryBefore() {
    return entryBefore.clone();
  }

  /** The original entry bytes the entry jump replaces. */
  public byte[] originalEntry() {
    return Arrays.copyOf(original, ENTRY_JUMP_SIZE);
  }

  /** Whether an activation has recorded what it overwrote. */
  public boolean hasActivation() {
    return entryBefore.length == ENTRY_JUMP_SIZE;
  }

  /** This redirect after an activation that overwrote {@code before} and chains to {@code previous}. */
  public Redirect activated(byte[] before, long previousTarget) {
    return new Redirect(name, module, kind, address, displaced, original, stub, trampoline,
        replacement, before, previousTarget);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Redirect r && name.equals(r.name) && module.equals(r.module)
        && kind == r.kind && address == r.address && displaced == r.displaced
        && Arrays.equals(original, r.original) && stub == r.stub && trampoline == r.trampoline
        && replacement == r.replacement && Arrays.equals(entryBefore, r.entryBefore)
        && previous == r.previous;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(address) * 31 + name.hashCode();
  }

  @Override
  public String toString() {
    return String.format("%s %s!%s at 0x%x -> 0x%x (stub 0x%x, trampoline 0x%x, displaced %d, original %s)",
        kind.word(), module, name, address, replacement, stub, trampoline, displaced,
        HexFormat.ofDelimiter(" ").formatHex(original, 0, displaced));
  }
}
