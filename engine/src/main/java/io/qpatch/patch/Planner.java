package io.qpatch.patch;

import io.qpatch.arch.x86_64.Decoder;
import io.qpatch.arch.x86_64.EntryRoom;
import io.qpatch.arch.x86_64.Instruction;
import io.qpatch.arch.x86_64.RelocationCheck;
import io.qpatch.arch.x86_64.Relocator;
import io.qpatch.elf.Symbol;
import io.qpatch.error.BadInputException;
import io.qpatch.error.RefusedException;
import io.qpatch.proc.Target;
import io.qpatch.symbols.Ifuncs;
import io.qpatch.symbols.ProcessSymbols;
import io.qpatch.symbols.ResolvedSymbol;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Decides, before anything is written, which functions of the target a patch takes over
 * and checks that each one can be: it exists, is a function, has room for the 5-byte jump
 * at its entry (its own bytes, or padding after a shorter one), and its first instructions
 * can be relocated into a trampoline. For an IFUNC ({@code strlen}
 * in glibc) the function is the implementation the process selected ({@link Ifuncs}): every
 * call, through any GOT slot or glibc's own PLT, lands there; the resolver runs no more.
 */
final class Planner {
  /** Functions longer than this are checked for branches back into their first bytes only this far. */
  private static final int MAX_CODE = 64 * 1024;
  /** Code read for a function whose symbol has no size (hand-written assembly). */
  private static final int UNSIZED_CODE = 64;

  /** One function to take over, with what the trampoline will be made from. */
  record Planned(
      String name, String module, RedirectKind kind, long address, String objectSymbol,
      byte[] original, byte[] code, RelocationCheck check) {

    int slotSize() {
      return StubCode.slotSize(check);
    }

    /**
     * The bytes at the entry no thread may be inside when the jump goes in: the relocated
     * instructions' and at least the jump's own 5 (a short function's padding too).
     */
    int displaced() {
      return Math.max(check.consumed(), Redirect.ENTRY_JUMP_SIZE);
    }
  }

  private final Target target;
  private final ProcessSymbols symbols;
  private final List<PatchRecord> records;
  private final Decoder decoder;
  private final Relocator relocator;
  private final Ifuncs ifuncs;

  Planner(Target target, ProcessSymbols symbols, List<PatchRecord> records, Decoder decoder) {
    this.target = target;
    this.symbols = symbols;
    this.records = records;
    this.decoder = decoder;
    this.relocator = new Relocator(decoder);
    this.ifuncs = new Ifuncs(symbols, target::read, target);
  }

  List<Planned> plan(PatchObject object) {
    Map<String, Symbol> hooks = object.hooks();
    List<Planned> out = new ArrayList<>();
    for (Map.Entry<String, Symbol> e : object.replacements().entrySet()) {
      if (hooks.containsKey(e.getKey())) {
        throw new BadInputException(object.name() + " both replaces " + e.getKey() + " and hooks it ("
            + e.getValue().name() + " and " + hooks.get(e.getKey()).name() + "); keep one");
      }
      if (!symbols.lookupAll(e.getKey()).isEmpty()) {
        out.add(plan(object, e.getKey(), RedirectKind.REPLACE, e.getKey()));
      }
    }
    for (Map.Entry<String, Symbol> e : hooks.entrySet()) {
      if (symbols.lookupAll(e.getKey()).isEmpty()) {
        throw new BadInputException(object.name() + ": " + e.getValue().name() + " hooks "
            + e.getKey() + ", which pid " + target.pid() + " does not define (the hook is "
            + PatchObject.HOOK_PREFIX + " + the function's symbol name, mangled for C++)");
      }
      out.add(plan(object, e.getKey(), RedirectKind.HOOK, e.getValue().name()));
    }
    requireDistinct(object, out);
    return out;
  }

  private Planned plan(PatchObject object, String name, RedirectKind kind, String objectSymbol) {
    ResolvedSymbol resolved = symbols.lookup(name);
    String where = name + " in " + resolved.module().name();
    if (resolved.symbol().type() == Symbol.STT_GNU_IFUNC) {
      resolved = ifuncs.implementationOf(resolved);
      where += " (the IFUNC's implementation, " + symbols.describe(resolved.address()) + ")";
    }
    Symbol s = resolved.symbol();
    if (!s.isFunction()) {
      throw new BadInputException(object.name() + " defines a function " + name + ", but " + where
          + " is a " + Symbol.typeName(s.type()).toLowerCase(java.util.Locale.ROOT)
          + ", not a function; rename the patch's function");
    }
    byte[] original = originalBytes(resolved.address());
    byte[] code = code(resolved.address(), s.size(), original);
    int relocated = Redirect.ENTRY_JUMP_SIZE;
    if (s.size() > 0 && s.size() < Redirect.ENTRY_JUMP_SIZE) {
      relocated = roomAfter(where, kind, resolved, s.size(), original);
      code = Arrays.copyOf(original, relocated);
    }
    RelocationCheck check = relocator.canRelocate(code, resolved.address(), relocated);
    if (!check.isOk()) {
      throw new RefusedException("cannot " + kind.word() + " " + where + ": its first "
          + "instructions cannot be moved to a trampoline: " + check.refusal());
    }
    requireNoShortCall(where, kind, resolved.address(), check);
    return new Planned(name, resolved.module().name(), kind, resolved.address(), objectSymbol,
        original, code, check);
  }

  /**
   * A function shorter than the entry jump can still take it when it returns (or jumps
   * away) before 5 bytes and only alignment padding follows ({@link EntryRoom}) that no
   * symbol of the process claims; returns its own bytes, which the trampoline runs.
   */
  private int roomAfter(String where, RedirectKind kind, ResolvedSymbol fn, long size, byte[] original) {
    int own = EntryRoom.ownBytes(decoder, original, fn.address(), Redirect.ENTRY_JUMP_SIZE);
    boolean claimed = false;
    for (long a = fn.address() + size; a < fn.address() + Redirect.ENTRY_JUMP_SIZE; a++) {
      claimed |= symbols.locate(a).symbol() != null;
    }
    if (own <= 0 || own >= Redirect.ENTRY_JUMP_SIZE || own > size || claimed) {
      throw new RefusedException("cannot " + kind.word() + " " + where + ": it is " + size
          + (size == 1 ? " byte" : " bytes") + " long, and what follows it is not padding (nops or"
          + " int3) that the 5-byte jump at its entry could take (bytes "
          + HexFormat.ofDelimiter(" ").formatHex(original, 0, 8) + ")");
    }
    return own;
  }

  /**
   * The function's first bytes as compiled: when a patch already redirects it, the
   * bytes that patch's record keeps, else what is in memory.
   */
  private byte[] originalBytes(long address) {
    byte[] now = target.read(address, Redirect.ORIGINAL_BYTES);
    long jumpTarget = StubCode.entryJumpTarget(address, now);
    for (PatchRecord r : records) {
      for (Redirect d : r.redirects()) {
        if (d.address() == address && (d.stub() == jumpTarget || d.hasActivation())) {
          return d.original();
        }
      }
    }
    return now;
  }

  private byte[] code(long address, long size, byte[] original) {
    int length = (int) Math.min(MAX_CODE, size > 0 ? size : UNSIZED_CODE);
    byte[] code = target.read(address, Math.max(length, Redirect.ORIGINAL_BYTES));
    System.arraycopy(original, 0, code, 0, Redirect.ORIGINAL_BYTES);
    return Arrays.copyOf(code, Math.max(length, Redirect.ENTRY_JUMP_SIZE));
  }

  /**
   * A call that ends inside the 5 entry bytes would leave a return address into bytes the
   * entry jump replaces; compilers never put one there, so refusing costs nothing.
   */
  private static void requireNoShortCall(String where, RedirectKind kind, long address,
      RelocationCheck check) {
    for (Instruction insn : check.instructions()) {
      if (insn.isCall() && insn.end() < address + Redirect.ENTRY_JUMP_SIZE) {
        throw new RefusedException("cannot " + kind.word() + " " + where + ": a call ends inside"
            + " its first 5 bytes (" + insn + "), so a return address could point into the entry jump");
      }
    }
  }

  private void requireDistinct(PatchObject object, List<Planned> planned) {
    Map<Long, String> seen = new HashMap<>();
    for (Planned p : planned) {
      String other = seen.putIfAbsent(p.address(), p.name());
      if (other != null) {
        throw new BadInputException(object.name() + " redirects " + other + " and " + p.name()
            + ", which are the same function in pid " + target.pid() + " (aliases); keep one");
      }
    }
  }
}
