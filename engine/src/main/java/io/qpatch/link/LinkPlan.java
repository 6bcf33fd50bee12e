package io.qpatch.link;

import io.qpatch.elf.Section;
import io.qpatch.elf.Symbol;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.OptionalLong;

/**
 * An object linked for one load address: the exact bytes of each segment and every address
 * the caller needs. Made without a process ({@link ObjectLoader#plan}) or as the first step
 * of {@link ObjectLoader#load}; making it is where every input error is reported.
 */
public final class LinkPlan {
  private final String objectName;
  private final LinkOptions options;
  private final long base;
  private final long size;
  private final List<Segment> segments;
  private final Image image;
  private final Map<String, Long> symbols;
  private final Map<String, Long> functions;
  private final Map<String, TargetSymbol> externals;
  private final List<Long> initArray;
  private final List<Long> finiArray;
  private final long dsoHandle;
  private final long cxaFinalize;
  private final long ehFrame;
  private final long registerFrame;
  private final long deregisterFrame;
  private final long got;
  private final List<String> droppedGroups;
  private final Map<String, Long> sections = new LinkedHashMap<>();

  private LinkPlan(Linker l, long base, Image image, RelocationApplier applier) {
    Layout layout = l.layout;
    this.objectName = l.elf.name();
    this.options = l.options;
    this.base = base;
    this.size = layout.imageSize;
    this.image = image;
    this.segments = layout.segments.stream()
        .map(s -> new Segment(s.kind(), base + s.offset(), s.size(), s.offset())).toList();
    this.symbols = new LinkedHashMap<>();
    this.functions = new LinkedHashMap<>();
    this.externals = new LinkedHashMap<>();
    collectSymbols(l, applier);
    this.initArray = arrayEntries(l, Section.SHT_INIT_ARRAY);
    this.finiArray = arrayEntries(l, Section.SHT_FINI_ARRAY);
    this.dsoHandle = layout.dsoHandle < 0 ? 0 : base + layout.dsoHandle;
    this.cxaFinalize = l.cxaFinalize;
    this.ehFrame = layout.ehFrame < 0 ? 0 : base + layout.ehFrame;
    this.registerFrame = l.registerFrame;
    this.deregisterFrame = l.deregisterFrame;
    this.got = base + layout.gotOffset;
    this.droppedGroups = List.copyOf(l.selection.droppedGroups);
    for (Section s : l.elf.sections()) {
      long at = layout.sectionOffset[s.index()];
      if (at >= 0) sections.putIfAbsent(s.name(), base + at);
    }
  }

  static LinkPlan of(Linker l, long base, Image image, RelocationApplier applier) {
    return new LinkPlan(l, base, image, applier);
  }

  /** Locals first, so a global of the same name wins; externals as they were bound. */
  private void collectSymbols(Linker l, RelocationApplier applier) {
    List<Symbol> all = new ArrayList<>(l.binder.symtab().symbols());
    all.sort(Comparator.comparingInt((Symbol s) -> s.isLocal() ? 0 : 1));
    for (Symbol s : all) {
      if (s.index() == 0 || s.name().isEmpty() || s.type() == Symbol.STT_SECTION
          || s.type() == Symbol.STT_FILE || s.isUndefined()) {
        continue;
      }
      if (!s.isAbsolute() && !s.isCommon() && !l.selection.isLoaded(s.sectionIndex())
          && !l.selection.dropped.contains(s.sectionIndex())) {
        continue;
      }
      Binding b = l.binder.get(s.index());
      if (b instanceof Binding.Discarded) continue;
      if (b instanceof Binding.External e) {
        externals.put(s.name(), e.target());
        continue;
      }
      symbols.put(s.name(), applier.value(b));
      if (!s.isLocal() && s.type() == Symbol.STT_FUNC) functions.put(s.name(), applier.value(b));
    }
    for (Symbol s : l.binder.symtab().symbols()) {
      if (s.isUndefined() && s.index() > 0
          && l.binder.get(s.index()) instanceof Binding.External e) {
        externals.put(s.name(), e.target());
      }
    }
  }

  /**
   * Entries of the init (or fini) arrays in the order the static linker would lay them out:
   * ".init_array.NNNNN" by priority, lowest first, then plain ".init_array" (ld's default
   * script, SORT_BY_INIT_PRIORITY).
   */
  private List<Long> arrayEntries(Linker l, int type) {
    List<Section> sections = new ArrayList<>();
    for (Section s : l.selection.rodata) {
      if (s.type() == type) sections.add(s);
    }
    sections.sort(Comparator.comparingLong(LinkPlan::priority));
    List<Long> entries = new ArrayList<>();
    for (Section s : sections) {
      long at = l.layout.sectionOffset[s.index()];
      for (long i = 0; i + 8 <= s.size(); i += 8) entries.add(image.getLong(at + i));
    }
    return List.copyOf(entries);
  }

  private static long priority(Section s) {
    int dot = s.name().lastIndexOf('.');
    try {
      return dot > 0 ? Long.parseLong(s.name().substring(dot + 1)) : 65536;
    } catch (NumberFormatException e) {
      return 65536;
    }
  }

  /** The object file's name, as messages spell it. */
  public String objectName() {
    return objectName;
  }

  public LinkOptions options() {
    return options;
  }

  public long base() {
    return base;
  }

  /** Bytes from the base to the end of the last segment. */
  public long size() {
    return size;
  }

  public List<Segment> segments() {
    return segments;
  }

  /** The bytes of {@code segment} as they are written to the target (up to its page end). */
  public byte[] bytes(Segment segment) {
    long length = Math.min(segment.size(), image.size() - segment.fileOffset());
    return image.slice(segment.fileOffset(), Math.max(length, 0));
  }

  /** {@code length} bytes of the image at run-time address {@code address}. */
  public byte[] read(long address, int length) {
    long offset = address - base;
    if (offset < 0 || offset + length > image.size()) {
      throw new IndexOutOfBoundsException(String.format("0x%x+%d is outside the image", address,
          length));
    }
    return image.slice(offset, length);
  }

  /** Every symbol the object defines and loads (local ones too, a global wins a name clash). */
  public Map<String, Long> symbols() {
    return Collections.unmodifiableMap(symbols);
  }

  public OptionalLong find(String symbol) {
    Long a = symbols.get(symbol);
    return a == null ? OptionalLong.empty() : OptionalLong.of(a);
  }

  /** The address of a symbol the object defines; NoSuchElementException if none. */
  public long address(String symbol) {
    Long a = symbols.get(symbol);
    if (a == null) throw new NoSuchElementException(objectName + " defines no symbol " + symbol);
    return a;
  }

  /** Global and weak functions the object defines, name to address, in symbol table order. */
  public Map<String, Long> functions() {
    return Collections.unmodifiableMap(functions);
  }

  /** Every name bound outside the object, with where it went. */
  public Map<String, TargetSymbol> externals() {
    return Collections.unmodifiableMap(externals);
  }

  /** Static constructors to call, in order, once loaded. */
  public List<Long> initArray() {
    return initArray;
  }

  /** .fini_array entries in array order; call them last to first at unload (as ld.so does). */
  public List<Long> finiArray() {
    return finiArray;
  }

  /**
   * The object's own {@code __dso_handle}, or 0 when it has none. C++ static objects with
   * destructors register them with __cxa_atexit under this handle: call
   * {@code __cxa_finalize(handle)} in the target before unloading to run them.
   */
  public long dsoHandle() {
    return dsoHandle;
  }

  /** The target's {@code __cxa_finalize} when {@link #dsoHandle} is used, else 0. */
  public long cxaFinalize() {
    return cxaFinalize;
  }

  /** The object's .eh_frame (zero-terminated), or 0 when it has none. */
  public long ehFrame() {
    return ehFrame;
  }

  /**
   * The target's libgcc {@code __register_frame}, 0 when the target has no libgcc unwinder
   * (a C program: then nothing in it can unwind through patch code anyway).
   */
  public long registerFrame() {
    return registerFrame;
  }

  /** The target's {@code __deregister_frame}, 0 when {@link #registerFrame} is 0. */
  public long deregisterFrame() {
    return deregisterFrame;
  }

  /** The object's GOT ({@code _GLOBAL_OFFSET_TABLE_}). */
  public long got() {
    return got;
  }

  /** Where each loaded section lies, by name (the first of several with one name). */
  public Map<String, Long> sections() {
    return Collections.unmodifiableMap(sections);
  }

  /** Signatures of COMDAT groups left out because the target has them. */
  public List<String> droppedGroups() {
    return droppedGroups;
  }
}
