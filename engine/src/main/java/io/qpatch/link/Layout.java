package io.qpatch.link;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.Relocation;
import io.qpatch.elf.RelocationSection;
import io.qpatch.elf.Section;
import io.qpatch.elf.Symbol;
import io.qpatch.error.BadInputException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where everything goes, as offsets from the load address: three page-aligned segments in
 * this order, each omitted when empty.
 * <pre>
 *   TEXT    r-x  code sections, PLT veneers (8 bytes each)
 *   RODATA  r--  read-only sections, .init_array/.fini_array, .eh_frame + terminator, the GOT
 *   DATA    rw-  .data*, .bss*, COMMON symbols, __dso_handle
 * </pre>
 * The memfd file has the same layout, so a segment at offset X maps file offset X. GOT
 * slots and veneers are reserved for every symbol that might need one, before the load
 * address is known; unused ones cost 8 bytes each.
 */
final class Layout {
  static final long PAGE = io.qpatch.sys.Mman.PAGE;
  static final int VENEER_SIZE = 8;
  /** A zero length word ends .eh_frame (LSB 5.0, "The .eh_frame section"); crtend.o adds it. */
  static final int EH_FRAME_TERMINATOR = 4;
  private static final long MAX_IMAGE = 1L << 30;

  /** The kinds of GOT slot: a symbol's address, its TLS offset, its tls_index pair. */
  enum Slot { ADDRESS, TP_OFFSET, TLS_INDEX }

  record SegmentLayout(Segment.Kind kind, long offset, long size) {}

  final long[] sectionOffset;
  final Map<Long, Long> got = new LinkedHashMap<>();
  final Map<Integer, Long> veneers = new LinkedHashMap<>();
  final Map<Integer, Long> commons = new LinkedHashMap<>();
  final List<SegmentLayout> segments = new ArrayList<>();
  long gotOffset;
  long dsoHandle = -1;
  long ehFrame = -1;
  long imageSize;

  private Layout(int sections) {
    sectionOffset = new long[sections];
    Arrays.fill(sectionOffset, -1);
  }

  static long key(Slot slot, int symbol) {
    return ((long) slot.ordinal() << 32) | symbol;
  }

  static Layout build(ElfFile elf, SectionSelection sel, SymbolBinder binder,
      List<RelocationSection> relocations) {
    Layout l = new Layout(elf.sections().size());
    Set<Long> gotKeys = new LinkedHashSet<>();
    Set<Integer> veneerSymbols = new LinkedHashSet<>();
    boolean dso = l.collect(binder, relocations, gotKeys, veneerSymbols);
    long at = l.endSegment(Segment.Kind.TEXT, 0, l.placeText(elf, sel, veneerSymbols));
    long rodataEnd = l.placeRodata(elf, sel, gotKeys, at);
    at = l.endSegment(Segment.Kind.RODATA, at, rodataEnd);
    long dataEnd = l.placeData(elf, sel, binder, dso, at);
    l.imageSize = l.endSegment(Segment.Kind.DATA, at, dataEnd);
    if (l.imageSize > MAX_IMAGE) {
      throw new BadInputException(elf.name() + ": " + l.imageSize + " bytes to load, more than"
          + " the 1 GiB a patch may use");
    }
    return l;
  }

  private long placeText(ElfFile elf, SectionSelection sel, Set<Integer> veneerSymbols) {
    long at = align(placeSections(elf, sel.text, 0), VENEER_SIZE);
    for (int sym : veneerSymbols) {
      veneers.put(sym, at);
      at += VENEER_SIZE;
    }
    return at;
  }

  private long placeRodata(ElfFile elf, SectionSelection sel, Set<Long> gotKeys, long at) {
    at = placeSections(elf, sel.rodata, at);
    if (sel.ehFrame != null) {
      ehFrame = sectionOffset[sel.ehFrame.index()];
      at += EH_FRAME_TERMINATOR;
    }
    at = align(at, 8);
    gotOffset = at;
    for (long k : gotKeys) {
      got.put(k, at);
      at += Slot.values()[(int) (k >>> 32)] == Slot.TLS_INDEX ? 16 : 8;
    }
    return at;
  }

  /** Notes the GOT slots and veneers the relocations need; true if __dso_handle is used. */
  private boolean collect(SymbolBinder binder, List<RelocationSection> relocations,
      Set<Long> gotKeys, Set<Integer> veneerSymbols) {
    boolean dso = false;
    for (RelocationSection rs : relocations) {
      for (Relocation r : rs.relocations()) {
        Binding b = binder.get(r.symbolIndex());
        dso |= b instanceof Binding.DsoHandle;
        Slot slot = RelocationKinds.slot(r.type());
        if (slot != null) gotKeys.add(key(slot, r.symbolIndex()));
        if (RelocationKinds.mayNeedLeaSlot(r.type(), b) && r.addend() == -4) {
          gotKeys.add(key(Slot.ADDRESS, r.symbolIndex()));
        }
        if (RelocationKinds.mayNeedVeneer(r.type(), b)) {
          gotKeys.add(key(Slot.ADDRESS, r.symbolIndex()));
          veneerSymbols.add(r.symbolIndex());
        }
      }
    }
    return dso;
  }

  private long placeData(ElfFile elf, SectionSelection sel, SymbolBinder binder, boolean dso,
      long at) {
    at = placeSections(elf, sel.data, at);
    for (Symbol s : binder.symtab().symbols()) {
      if (s.index() > 0 && s.isCommon() && binder.get(s.index()) instanceof Binding.Common c) {
        at = align(at, checkedAlign(elf, c.align(), "COMMON symbol " + s.name()));
        commons.put(s.index(), at);
        at += c.size();
      }
    }
    if (dso) {
      at = align(at, 8);
      dsoHandle = at;
      at += 8;
    }
    return at;
  }

  private long placeSections(ElfFile elf, List<Section> sections, long at) {
    for (Section s : sections) {
      at = align(at, checkedAlign(elf, s.addralign(), s.label()));
      sectionOffset[s.index()] = at;
      at += s.size();
      if (at > MAX_IMAGE) {
        throw new BadInputException(elf.name() + ": " + s.label() + " does not fit in the 1 GiB"
            + " a patch may use");
      }
    }
    return at;
  }

  private static long checkedAlign(ElfFile elf, long align, String what) {
    if (align <= 1) return 1;
    if (Long.bitCount(align) != 1 || align > PAGE) {
      throw new BadInputException(elf.name() + ": " + what + " asks for alignment " + align
          + "; qpatch supports powers of two up to the page size (4096)");
    }
    return align;
  }

  /** Records the segment [start, end) if not empty; returns the next page boundary. */
  private long endSegment(Segment.Kind kind, long start, long end) {
    long next = align(end, PAGE);
    if (end > start) segments.add(new SegmentLayout(kind, start, next - start));
    return Math.max(next, start);
  }

  static long align(long v, long a) {
    return (v + a - 1) & -a;
  }
}
