package io.qpatch.link;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.ElfType;
import io.qpatch.elf.Relocation;
import io.qpatch.elf.RelocationSection;
import io.qpatch.elf.Section;
import io.qpatch.elf.SymbolTable;
import io.qpatch.error.BadInputException;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Links one relocatable object in two steps: {@link #prepare} does everything that does not
 * depend on the load address (section choice, symbol resolution, checks, layout) so that
 * the size is known and every input error is found; {@link #at} relocates it for one
 * address into an image. Neither touches a process.
 */
final class Linker {
  final ElfFile elf;
  final LinkOptions options;
  final SectionSelection selection;
  final SymbolBinder binder;
  final List<RelocationSection> relocations;
  final Layout layout;
  final long cxaFinalize;
  final long registerFrame;
  final long deregisterFrame;

  private Linker(ElfFile elf, LinkOptions options, SymbolSource source) {
    this.elf = elf;
    this.options = options;
    if (elf.header().type() != ElfType.REL) {
      throw new BadInputException(elf.name() + ": not a relocatable object (ELF type "
          + elf.header().type() + "); build the patch with gcc -c or g++ -c");
    }
    SymbolTable symtab = elf.symtab().orElseThrow(() -> new BadInputException(elf.name()
        + ": no symbol table; was the object stripped?"));
    this.selection = SectionSelection.select(elf, symtab, source);
    this.relocations = loadedRelocations(symtab);
    this.binder = new SymbolBinder(elf, symtab, selection, options.overrides(), source);
    this.layout = checkAndLayout();
    this.cxaFinalize = layout.dsoHandle < 0 ? 0 : addressOf(source, "__cxa_finalize");
    this.registerFrame = layout.ehFrame < 0 ? 0 : addressOf(source, "__register_frame");
    this.deregisterFrame = registerFrame == 0 ? 0 : addressOf(source, "__deregister_frame");
  }

  /** A helper the loader may call in the target; 0 when the target lacks it. */
  private static long addressOf(SymbolSource source, String name) {
    return source.lookup(name).map(TargetSymbol::address).orElse(0L);
  }

  static Linker prepare(ElfFile elf, SymbolSource source, LinkOptions options) {
    return new Linker(elf, options, source);
  }

  /** Bytes the object needs, a whole number of pages. */
  long size() {
    return layout.imageSize;
  }

  private List<RelocationSection> loadedRelocations(SymbolTable symtab) {
    List<RelocationSection> list = new ArrayList<>();
    for (RelocationSection rs : elf.relocationSections()) {
      if (rs.target() == null || !selection.isLoaded(rs.target().index())) continue;
      if (rs.symbols() == null || rs.symbols().index() != symtab.section().index()) {
        throw new BadInputException(elf.name() + ": " + rs.section().label()
            + " does not use the object's symbol table");
      }
      list.add(rs);
    }
    return List.copyOf(list);
  }

  /** Every check that can fail, in the order a user fixes things; then the layout. */
  private Layout checkAndLayout() {
    RelocationApplier checker = RelocationApplier.checker(elf, binder);
    for (RelocationSection rs : relocations) {
      for (Relocation r : rs.relocations()) {
        String reason = RelocationKinds.unsupportedReason(r.type());
        if (reason != null) throw checker.error(rs.target(), r, "is not supported: " + reason);
      }
    }
    for (RelocationSection rs : relocations) {
      for (Relocation r : rs.relocations()) binder.get(r.symbolIndex());
    }
    binder.requireAllResolved();
    for (RelocationSection rs : relocations) {
      for (Relocation r : rs.relocations()) checker.check(rs.target(), r);
    }
    Layout l = Layout.build(elf, selection, binder, relocations);
    if (l.imageSize == 0) {
      throw new BadInputException(elf.name() + ": nothing to load (no code or data sections)");
    }
    return l;
  }

  /** The object relocated to run at {@code base} (page-aligned). */
  LinkPlan at(long base) {
    if ((base & (Layout.PAGE - 1)) != 0) {
      throw new IllegalArgumentException(String.format("base 0x%x is not page-aligned", base));
    }
    Image image = new Image(layout.imageSize);
    copySections(image);
    RelocationApplier applier = new RelocationApplier(elf, binder, layout, base, image);
    for (RelocationSection rs : relocations) {
      for (Relocation r : rs.relocations()) applier.apply(rs.target(), r);
    }
    Tables.fillGot(layout, binder, applier, image);
    Tables.writeVeneers(layout, base, image);
    return LinkPlan.of(this, base, image, applier);
  }

  private void copySections(Image image) {
    for (Section s : elf.sections()) {
      long at = layout.sectionOffset[s.index()];
      if (at >= 0 && s.hasData()) image.put(at, s.data().toArray(ValueLayout.JAVA_BYTE));
    }
  }
}
