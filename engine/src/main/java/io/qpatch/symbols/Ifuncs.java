package io.qpatch.symbols;

import io.qpatch.dwarf.EhFrame;
import io.qpatch.elf.ElfFile;
import io.qpatch.elf.Relocation;
import io.qpatch.elf.RelocationSection;
import io.qpatch.elf.RelocationType;
import io.qpatch.elf.Symbol;
import io.qpatch.elf.SymbolTable;
import io.qpatch.error.BadInputException;
import io.qpatch.proc.Target;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Finds the implementation an IFUNC symbol (STT_GNU_IFUNC) resolved to in a running process,
 * without running code in it: the dynamic linker has already called the resolver for every
 * GOT slot that binds to the IFUNC, so the slot holds the answer the process itself uses.
 *
 * <ol>
 *   <li>The defining library's own R_X86_64_IRELATIVE slots: glibc calls memcpy, strlen ...
 *       internally through its PLT, and each such slot is an IRELATIVE relocation whose
 *       addend is the resolver's address (psABI 4.4: "indirect (B + A)"); ld.so applies
 *       IRELATIVE eagerly at start-up, so the slot holds the implementation.
 *   <li>Else any module's GLOB_DAT, JUMP_SLOT or 64 slot for the symbol by name, when its
 *       value already lies in the defining module's code and is not the resolver (a lazily
 *       bound JUMP_SLOT still points back into the caller's PLT and is skipped).
 *   <li>Else, when a stopped {@link Target} is at hand, the resolver is called in it ({@link
 *       Target#callFunction}) with no arguments, as ld.so does on x86-64 (sysdeps/x86_64/
 *       dl-irel.h, elf_ifunc_invoke); glibc's x86 resolvers read the cpu features ld.so
 *       already stored.
 * </ol>
 * Without a slot or a target the symbol is refused with a message.
 */
public final class Ifuncs {
  private final ProcessSymbols symbols;
  private final MemoryReader memory;
  private final Target target;
  private final Map<Long, Long> cache = new HashMap<>();

  /** {@code target} may be null: then no resolver is ever called. */
  public Ifuncs(ProcessSymbols symbols, MemoryReader memory, Target target) {
    this.symbols = symbols;
    this.memory = memory;
    this.target = target;
  }

  public long implementation(ResolvedSymbol ifunc) {
    return cache.computeIfAbsent(ifunc.address(), a -> find(ifunc));
  }

  /**
   * The implementation as a function symbol of the defining module, to be patched or traced
   * in the IFUNC's place: named as the IFUNC ({@code strlen}), sized by the module's symbol
   * for that address when it has one ({@code __strlen_avx2} in a .symtab), else by the
   * .eh_frame FDE that covers it, else 0 (unknown, as for a symbol without size).
   */
  public ResolvedSymbol implementationOf(ResolvedSymbol ifunc) {
    long address = implementation(ifunc);
    Module m = ifunc.module();
    long vaddr = address - m.loadBias();
    Location at = symbols.locate(address);
    long size = at.symbol() != null && at.offset() == 0 && at.symbol().size() > 0
        ? at.symbol().size()
        : EhFrame.covering(m.elf(), vaddr).filter(e -> e.start() == vaddr).map(EhFrame.Extent::size).orElse(0L);
    Symbol s = ifunc.symbol();
    return new ResolvedSymbol(address, m, new Symbol(s.index(), s.name(), vaddr, size, Symbol.STT_FUNC,
        s.bind(), s.visibility(), s.sectionIndex(), s.version(), s.versionHidden()));
  }

  private long find(ResolvedSymbol ifunc) {
    OptionalLong viaIrelative = fromIrelative(ifunc);
    if (viaIrelative.isPresent()) return viaIrelative.getAsLong();
    for (Module m : symbols.modules()) {
      OptionalLong bound = fromNamedSlot(m, ifunc);
      if (bound.isPresent()) return bound.getAsLong();
    }
    if (target != null && target.isStopped()) return callResolver(ifunc);
    throw new BadInputException("symbol '" + ifunc.symbol().name() + "' in process "
        + symbols.pid() + " is an IFUNC (" + ifunc.qualifiedName() + ") and no GOT slot of the"
        + " process holds its resolved implementation; call it through a function pointer the"
        + " program already has");
  }

  private long callResolver(ResolvedSymbol ifunc) {
    long impl = target.callFunction(ifunc.address());
    if (!isCodeOf(impl, ifunc)) {
      throw new BadInputException(String.format("IFUNC resolver %s in process %d returned 0x%x,"
          + " which is not code of %s", ifunc.qualifiedName(), symbols.pid(), impl,
          ifunc.module().name()));
    }
    return impl;
  }

  private OptionalLong fromIrelative(ResolvedSymbol ifunc) {
    Module m = ifunc.module();
    long resolverVaddr = ifunc.address() - m.loadBias();
    for (RelocationSection rs : relocations(m.elf())) {
      for (Relocation r : rs.relocations()) {
        if (r.type() == RelocationType.R_X86_64_IRELATIVE && r.addend() == resolverVaddr) {
          OptionalLong v = slotValue(m.loadBias() + r.offset(), ifunc);
          if (v.isPresent()) return v;
        }
      }
    }
    return OptionalLong.empty();
  }

  private OptionalLong fromNamedSlot(Module m, ResolvedSymbol ifunc) {
    if (m.isVdso()) return OptionalLong.empty();
    ElfFile elf;
    try {
      elf = m.elf();
    } catch (BadInputException e) {
      return OptionalLong.empty();
    }
    for (RelocationSection rs : relocations(elf)) {
      if (rs.symbols() == null) continue;
      SymbolTable table = elf.symbolTable(rs.symbols());
      for (Relocation r : rs.relocations()) {
        if (isSymbolSlot(r.type()) && r.symbolIndex() != 0
            && table.get(r.symbolIndex()).name().equals(ifunc.symbol().name())) {
          OptionalLong v = slotValue(m.loadBias() + r.offset(), ifunc);
          if (v.isPresent()) return v;
        }
      }
    }
    return OptionalLong.empty();
  }

  private static boolean isSymbolSlot(int type) {
    return type == RelocationType.R_X86_64_GLOB_DAT || type == RelocationType.R_X86_64_JUMP_SLOT
        || type == RelocationType.R_X86_64_64;
  }

  private static Iterable<RelocationSection> relocations(ElfFile elf) {
    try {
      return elf.relocationSections();
    } catch (BadInputException e) {
      return List.of();
    }
  }

  /** The slot's value when it is a plausible implementation: code of the defining module. */
  private OptionalLong slotValue(long slot, ResolvedSymbol ifunc) {
    long value;
    try {
      value = ByteBuffer.wrap(memory.read(slot, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    } catch (RuntimeException e) {
      return OptionalLong.empty();
    }
    if (value == ifunc.address() || !isCodeOf(value, ifunc)) return OptionalLong.empty();
    return OptionalLong.of(value);
  }

  private static boolean isCodeOf(long address, ResolvedSymbol ifunc) {
    return ifunc.module().mappings().stream()
        .anyMatch(m -> m.isExecutable() && m.contains(address));
  }
}
