package io.qpatch.link;

import static io.qpatch.elf.RelocationType.*;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.Relocation;
import io.qpatch.elf.RelocationType;
import io.qpatch.elf.Section;
import io.qpatch.elf.Symbol;
import io.qpatch.error.BadInputException;

/**
 * Applies one relocation to the image, with the psABI's formulas (4.4.1, Table 4.9):
 * S symbol value, A addend, P place, GOT the GOT's address, G+GOT the symbol's GOT slot, L
 * the symbol's PLT entry (the symbol itself when a rel32 reaches it, else its veneer), Z the
 * symbol's size. Every field narrower than 64 bits is checked for overflow.
 */
final class RelocationApplier {
  private final ElfFile elf;
  private final SymbolBinder binder;
  private final Layout layout;
  private final long base;
  private final Image image;

  RelocationApplier(ElfFile elf, SymbolBinder binder, Layout layout, long base, Image image) {
    this.elf = elf;
    this.binder = binder;
    this.layout = layout;
    this.base = base;
    this.image = image;
  }

  /** An applier that only checks and reports: no layout or image yet. */
  static RelocationApplier checker(ElfFile elf, SymbolBinder binder) {
    return new RelocationApplier(elf, binder, null, 0, null);
  }

  /** Checks that the type is supported and fits its symbol; throws before any write. */
  void check(Section target, Relocation r) {
    String reason = RelocationKinds.unsupportedReason(r.type());
    if (reason != null) throw error(target, r, "is not supported: " + reason);
    boolean tlsSymbol = binder.get(r.symbolIndex()) instanceof Binding.ThreadLocal;
    if (RelocationKinds.isTls(r.type()) != tlsSymbol && r.symbolIndex() != 0) {
      throw error(target, r, tlsSymbol
          ? "uses a thread-local variable as an ordinary address"
          : "expects a thread-local variable");
    }
    if (!target.hasData()) throw error(target, r, "patches a section without file contents");
    if (binder.get(r.symbolIndex()) instanceof Binding.Discarded
        && !SectionSelection.isEhFrame(target)) {
      throw error(target, r, "refers to a local symbol of a COMDAT group the target already"
          + " has; only .eh_frame may (gABI: a group's local symbols are private to it)");
    }
  }

  void apply(Section target, Relocation r) {
    long offset = layout.sectionOffset[target.index()] + r.offset();
    long p = base + offset;
    long a = r.addend();
    int sym = r.symbolIndex();
    Field f = new Field(target, r, offset);
    if (binder.get(sym) instanceof Binding.Discarded) {
      nullFdeAddress(f, p);
      return;
    }
    switch (r.type()) {
      case R_X86_64_NONE, R_X86_64_GNU_VTINHERIT, R_X86_64_GNU_VTENTRY -> { }
      case R_X86_64_64 -> f.put64(s(f) + a);
      case R_X86_64_PC32, R_X86_64_PC32_BND -> pc32(f, p, a);
      case R_X86_64_PLT32, R_X86_64_PLT32_BND -> f.putSigned32(reachable(f, p) + a - p);
      case R_X86_64_32 -> f.putUnsigned(s(f) + a, 4);
      case R_X86_64_32S -> f.putSigned32(s(f) + a);
      case R_X86_64_16 -> f.putUnsigned(s(f) + a, 2);
      case R_X86_64_8 -> f.putUnsigned(s(f) + a, 1);
      case R_X86_64_PC16 -> f.putSigned(s(f) + a - p, 2);
      case R_X86_64_PC8 -> f.putSigned(s(f) + a - p, 1);
      case R_X86_64_PC64 -> f.put64(s(f) + a - p);
      case R_X86_64_GOTOFF64 -> f.put64(s(f) + a - got());
      case R_X86_64_GOTPC32 -> f.putSigned32(got() + a - p);
      case R_X86_64_GOTPC64 -> f.put64(got() + a - p);
      case R_X86_64_PLTOFF64 -> f.put64(s(f) + a - got());
      case R_X86_64_SIZE32 -> f.putUnsigned(size(sym) + a, 4);
      case R_X86_64_SIZE64 -> f.put64(size(sym) + a);
      case R_X86_64_GOT32 -> f.putSigned32(slot(Layout.Slot.ADDRESS, sym) - got() + a);
      case R_X86_64_GOT64, R_X86_64_GOTPLT64 -> f.put64(slot(Layout.Slot.ADDRESS, sym) - got() + a);
      case R_X86_64_GOTPCREL64 -> f.put64(slot(Layout.Slot.ADDRESS, sym) + a - p);
      case R_X86_64_TPOFF32 -> f.putSigned32(tls(sym).tpOffset() + a);
      case R_X86_64_TPOFF64 -> f.put64(tls(sym).tpOffset() + a);
      default -> f.putSigned32(slot(RelocationKinds.slot(r.type()), sym) + a - p);
    }
  }

  /**
   * Makes the FDE of a dropped function match nothing: its pc_begin decodes to 0 in the
   * bits the encoding has, which the unwinder takes as "link-once function removed" and
   * skips (libgcc unwind-dw2-fde.c, linear_search_fdes: {@code (pc_begin & mask) == 0}).
   * Pc-relative: the stored value is -P in the field's width; absolute: 0.
   */
  private void nullFdeAddress(Field f, long p) {
    switch (f.r.type()) {
      case R_X86_64_PC32 -> image.putBytes(f.offset, -p, 4);
      case R_X86_64_PC64 -> image.putLong(f.offset, -p);
      case R_X86_64_64 -> image.putLong(f.offset, 0);
      case R_X86_64_32 -> image.putBytes(f.offset, 0, 4);
      default -> throw error(f.target, f.r, "in .eh_frame refers to a dropped COMDAT section"
          + " in a way qpatch cannot neutralize");
    }
  }

  /** S, the symbol's value; an unresolved weak symbol is 0. */
  private long s(Field f) {
    return value(binder.get(f.r.symbolIndex()));
  }

  long value(Binding b) {
    return switch (b) {
      case Binding.InSection in -> base + layout.sectionOffset[in.section()] + in.offset();
      case Binding.External e -> e.target().address();
      case Binding.Absolute abs -> abs.value();
      case Binding.GotBase g -> got();
      case Binding.DsoHandle d -> base + layout.dsoHandle;
      case Binding.Common c -> base + layout.commons.get(c.symbol());
      case Binding.ThreadLocal t -> throw new IllegalStateException("checked before");
      case Binding.Discarded d -> 0;
    };
  }

  /**
   * S + A - P; when S is out of reach: a {@code lea S(%rip), %reg} becomes {@code mov
   * slot(%rip), %reg} with the slot holding S, the GOTPCRELX relaxation of the psABI
   * (B.2, "Optimize GOTPCRELX Relocations") run backwards: same length, same register,
   * same result. Non-PIC code takes the address of library data this way (g++ -c: typeinfo
   * for a throw, std::cout). Other far references to functions go through a veneer.
   */
  private void pc32(Field f, long p, long a) {
    long s = s(f);
    Long slot = layout.got.get(Layout.key(Layout.Slot.ADDRESS, f.r.symbolIndex()));
    if (!fitsSigned32(s + a - p) && slot != null && a == -4 && isRipLea(f)) {
      image.put(f.offset - 2, new byte[] {(byte) 0x8b});
      f.putSigned32(base + slot + a - p);
      return;
    }
    f.putSigned32(reachable(f, p) + a - p);
  }

  /**
   * Whether the rel32 at {@code f} is the displacement of {@code lea disp(%rip), %reg}: the
   * byte before it is a ModRM with mod=00 rm=101 (RIP-relative, Intel SDM Vol. 2, Table 2-7)
   * and the one before that opcode 8D. A RIP-relative ModRM is never followed by a SIB, so
   * the opcode sits right there.
   */
  private boolean isRipLea(Field f) {
    long sectionStart = layout.sectionOffset[f.target.index()];
    if (f.offset - 2 < sectionStart || !f.target.isExecutable()) return false;
    return image.get(f.offset - 2) == 0x8d && (image.get(f.offset - 1) & 0xc7) == 0x05;
  }

  /** S, or the veneer (PLT entry) that reaches S when S is beyond a rel32 from {@code p}. */
  private long reachable(Field f, long p) {
    long s = s(f);
    Long veneer = layout.veneers.get(f.r.symbolIndex());
    if (veneer == null || fitsSigned32(s + f.r.addend() - p)) return s;
    return base + veneer;
  }

  private long got() {
    return base + layout.gotOffset;
  }

  private long slot(Layout.Slot kind, int sym) {
    return base + layout.got.get(Layout.key(kind, sym));
  }

  private ThreadLocalSymbol tls(int sym) {
    return ((Binding.ThreadLocal) binder.get(sym)).symbol();
  }

  private long size(int sym) {
    return binder.symtab().get(sym).size();
  }

  static boolean fitsSigned32(long v) {
    return v == (int) v;
  }

  BadInputException error(Section target, Relocation r, String what) {
    Symbol sym = binder.symtab().get(r.symbolIndex());
    return new BadInputException(String.format("%s: relocation %s at %s+0x%x (symbol %s) %s",
        elf.name(), RelocationType.name(r.type()), target.name(), r.offset(),
        r.symbolIndex() == 0 ? "none" : binder.name(sym), what));
  }

  /** The field a relocation writes, with overflow checks that name the relocation. */
  private final class Field {
    final Section target;
    final Relocation r;
    final long offset;

    Field(Section target, Relocation r, long offset) {
      this.target = target;
      this.r = r;
      this.offset = offset;
    }

    void put64(long v) {
      image.putLong(offset, v);
    }

    void putSigned32(long v) {
      putSigned(v, 4);
    }

    void putSigned(long v, int bytes) {
      long min = -(1L << (bytes * 8 - 1));
      if (v < min || v > -min - 1) throw overflow(v, bytes, "signed");
      image.putBytes(offset, v, bytes);
    }

    void putUnsigned(long v, int bytes) {
      long max = (1L << (bytes * 8)) - 1;
      if (Long.compareUnsigned(v, max) > 0) throw overflow(v, bytes, "unsigned");
      image.putBytes(offset, v, bytes);
    }

    private BadInputException overflow(long v, int bytes, String kind) {
      return error(target, r, String.format("overflows: 0x%x does not fit in %d bits %s when"
          + " loaded at 0x%x; the target is out of reach of %d-bit code, compile the patch"
          + " with -fPIC", v, bytes * 8, kind, base, bytes * 8));
    }
  }
}
