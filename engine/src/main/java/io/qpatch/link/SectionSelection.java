package io.qpatch.link;

import io.qpatch.elf.ComdatGroup;
import io.qpatch.elf.ElfFile;
import io.qpatch.elf.Section;
import io.qpatch.elf.Symbol;
import io.qpatch.elf.SymbolTable;
import io.qpatch.error.BadInputException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which sections of a relocatable object are loaded, and into which segment.
 *
 * <ul>
 *   <li>Only SHF_ALLOC sections: debug info, symbol tables and relocations are not loaded.
 *   <li>{@code .eh_frame} is kept, read-only, last of the read-only sections and followed
 *       by the 4-byte zero terminator crtend.o would add, so it can be registered with the
 *       target's unwinder (the patch engine registers it: patch.Loading). Notes
 *       (.note.gnu.property) are dropped.
 *   <li>A COMDAT group whose signature symbol (inline function, template instance, vtable,
 *       typeinfo) the target already defines, together with every global symbol the group
 *       defines, is dropped: the patch uses the target's copy, as the static linker keeps
 *       one copy per signature (gABI "Section Groups"). Otherwise the group is kept.
 *   <li>A thread-local section with contents is refused: a loaded object cannot add TLS
 *       to threads that already exist.
 * </ul>
 */
final class SectionSelection {
  final List<Section> text = new ArrayList<>();
  final List<Section> rodata = new ArrayList<>();
  final List<Section> data = new ArrayList<>();
  final Set<Integer> dropped = new HashSet<>();
  final List<String> droppedGroups = new ArrayList<>();
  Section ehFrame;
  private final Set<Integer> loaded = new HashSet<>();

  static SectionSelection select(ElfFile elf, SymbolTable symtab, SymbolSource source) {
    SectionSelection s = new SectionSelection();
    for (ComdatGroup g : elf.groups()) {
      if (g.isComdat() && targetHas(g, symtab, source)) {
        s.dropped.addAll(g.members());
        s.droppedGroups.add(g.signature());
      }
    }
    for (Section section : elf.sections()) {
      if (!s.dropped.contains(section.index()) && isLoaded(elf, section)) s.add(section);
    }
    s.data.sort((a, b) -> Boolean.compare(!a.hasData(), !b.hasData()));
    if (s.ehFrame != null) s.rodata.add(s.ehFrame);
    return s;
  }

  private static boolean isLoaded(ElfFile elf, Section s) {
    if (!s.isAlloc() || s.type() == Section.SHT_GROUP || s.type() == Section.SHT_NOTE) return false;
    if ((s.flags() & Section.SHF_EXCLUDE) != 0) return false;
    if (s.isTls() && s.size() > 0) {
      throw new BadInputException(elf.name() + ": " + s.label() + " holds thread-local"
          + " variables; a patch cannot add __thread variables to a running process (use the"
          + " program's own, declared extern)");
    }
    if (s.type() == Section.SHT_PREINIT_ARRAY) {
      throw new BadInputException(elf.name() + ": " + s.label() + ": .preinit_array is only"
          + " for executables");
    }
    return !s.isTls();
  }

  private void add(Section s) {
    loaded.add(s.index());
    if (isEhFrame(s)) {
      if (ehFrame == null) ehFrame = s;
      else rodata.add(s);
    } else if (isInitOrFini(s)) {
      rodata.add(s);
    } else if (s.isExecutable()) {
      text.add(s);
    } else if (s.isWritable()) {
      data.add(s);
    } else {
      rodata.add(s);
    }
  }

  static boolean isEhFrame(Section s) {
    return s.name().equals(".eh_frame") || s.type() == Section.SHT_X86_64_UNWIND;
  }

  static boolean isInitOrFini(Section s) {
    return s.type() == Section.SHT_INIT_ARRAY || s.type() == Section.SHT_FINI_ARRAY;
  }

  /**
   * Whether the target defines every global symbol the group defines (there is at least
   * one). The signature is usually one of them; a constructor group's signature
   * ("_ZN3FooC5Ev") names no symbol at all, so the members decide.
   */
  private static boolean targetHas(ComdatGroup g, SymbolTable symtab, SymbolSource source) {
    Set<Integer> members = new HashSet<>(g.members());
    int globals = 0;
    for (Symbol sym : symtab.symbols()) {
      if (!sym.isLocal() && sym.isDefined() && members.contains(sym.sectionIndex())) {
        if (source.lookup(sym.name()).isEmpty()) return false;
        globals++;
      }
    }
    return globals > 0;
  }

  boolean isLoaded(int sectionIndex) {
    return loaded.contains(sectionIndex);
  }
}
