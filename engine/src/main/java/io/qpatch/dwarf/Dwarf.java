package io.qpatch.dwarf;

import io.qpatch.elf.ElfFile;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The DWARF 2-5 debugging information of an ELF file, read just deep enough for function
 * parameters and struct member offsets: Go's {@code runtime.g.goid}, a Go or C function's
 * formal parameters and their types.
 *
 * <p>Lazy: opening reads nothing. The first name lookup makes one pass over .debug_info
 * that keeps only type names and function offsets; types, members and parameters are read
 * when asked for. Everything read from the file is bounds-checked; malformed DWARF is a
 * {@link io.qpatch.error.BadInputException} naming the file and section.
 *
 * <p>Not read: .debug_types (DWARF 4 type units in their own section), supplementary
 * files (dwz's DW_FORM_GNU_ref_alt), split DWARF (.dwo), functions described only by
 * DW_AT_ranges, location lists.
 *
 * <p>Thread-safe.
 */
public final class Dwarf {
  private final DebugSections sections;
  private final DieReader reader;
  private final TypeBuilder types;
  private final FunctionReader functionReader;
  private NameIndex index;
  private List<DwarfFunction> functions;
  private Map<String, DwarfFunction> byName;

  private Dwarf(DebugSections sections) {
    this.sections = sections;
    this.reader = new DieReader(sections);
    this.types = new TypeBuilder(reader);
    this.functionReader = new FunctionReader(reader, types);
  }

  /** The file's DWARF, or empty when it has no .debug_info (a stripped or -w build). */
  public static Optional<Dwarf> of(ElfFile elf) {
    DebugSections sections = new DebugSections(elf);
    return sections.hasInfo() ? Optional.of(new Dwarf(sections)) : Optional.empty();
  }

  public String file() {
    return sections.file();
  }

  /** DW_AT_producer of every compile unit, distinct: "Go cmd/compile go1.21.13; regabi". */
  public List<String> producers() {
    return List.copyOf(index().producers);
  }

  /**
   * Go: the name of each type by where its runtime descriptor (runtime._type, what an
   * interface's first word points to) lies from the start of the type descriptors, from
   * DW_AT_go_runtime_type.
   */
  public Map<Long, String> runtimeTypeNames() {
    return Map.copyOf(index().runtimeTypes);
  }

  /** The named type definition (struct, class, union, typedef, base, enum, Go pointer). */
  public Optional<DwarfType> type(String name) {
    Long offset = index().types.get(name);
    return offset == null ? Optional.empty() : Optional.of(types.type(offset));
  }

  /** The struct, class or union called {@code name}, through typedefs. */
  public Optional<DwarfType> struct(String name) {
    return type(name).map(DwarfType::resolved).filter(DwarfType::isAggregate);
  }

  /** Offset of {@code member} inside struct {@code struct}, e.g. ("runtime.g", "goid"). */
  public OptionalLong memberOffset(String struct, String member) {
    return struct(struct).flatMap(s -> s.member(member))
        .filter(m -> m.offset() >= 0)
        .map(m -> OptionalLong.of(m.offset())).orElse(OptionalLong.empty());
  }

  /** Every function with code, sorted by address. */
  public synchronized List<DwarfFunction> functions() {
    if (functions == null) {
      List<DwarfFunction> list = new ArrayList<>();
      for (long offset : index().subprograms) list.add(functionReader.function(offset));
      list.sort(Comparator.comparingLong(DwarfFunction::lowPc));
      functions = List.copyOf(list);
    }
    return functions;
  }

  /** The function called {@code name} (Go or C name, or C++ mangled name). */
  public synchronized Optional<DwarfFunction> function(String name) {
    if (byName == null) {
      Map<String, DwarfFunction> map = new HashMap<>();
      for (DwarfFunction f : functions()) {
        map.putIfAbsent(f.name(), f);
        if (f.linkageName() != null) map.putIfAbsent(f.linkageName(), f);
      }
      byName = map;
    }
    return Optional.ofNullable(byName.get(name));
  }

  /** The function whose code contains {@code pc}. */
  public Optional<DwarfFunction> functionAt(long pc) {
    List<DwarfFunction> all = functions();
    int lo = 0;
    int hi = all.size() - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      DwarfFunction f = all.get(mid);
      if (Long.compareUnsigned(pc, f.lowPc()) < 0) hi = mid - 1;
      else if (f.contains(pc)) return Optional.of(f);
      else lo = mid + 1;
    }
    return Optional.empty();
  }

  private synchronized NameIndex index() {
    if (index == null) index = NameIndex.build(reader);
    return index;
  }
}
