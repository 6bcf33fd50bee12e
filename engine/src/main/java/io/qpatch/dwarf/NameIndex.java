package io.qpatch.dwarf;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One linear pass over every DIE of every unit, keeping only what lookups need: named
 * type definitions (by name, first definition wins) and subprograms that have code.
 * Depth is tracked from the has-children flags and null entries, so no sibling links are
 * needed and nothing recurses.
 */
final class NameIndex {
  final Map<String, Long> types = new HashMap<>();
  final List<Long> subprograms = new ArrayList<>();
  final List<String> producers = new ArrayList<>();
  /** Go: a runtime type descriptor's offset (from moduledata.types) to the type's name. */
  final Map<Long, String> runtimeTypes = new HashMap<>();

  static NameIndex build(DieReader reader) {
    NameIndex index = new NameIndex();
    for (Unit unit : reader.units()) index.scan(reader, unit);
    return index;
  }

  private void scan(DieReader reader, Unit unit) {
    long offset = unit.firstDie;
    while (offset < unit.end) {
      Die die = reader.read(unit, offset);
      offset = die.end;
      if (die.isNull()) continue;
      int tag = die.tag();
      if (tag == Dw.TAG_COMPILE_UNIT) addProducer(die);
      else if (tag == Dw.TAG_SUBPROGRAM) addSubprogram(die);
      else if (isNamedType(tag)) addType(die);
    }
  }

  private void addProducer(Die die) {
    String producer = die.string(Dw.AT_PRODUCER);
    if (producer != null && !producers.contains(producer)) producers.add(producer);
  }

  private void addSubprogram(Die die) {
    if (die.has(Dw.AT_LOW_PC) && die.has(Dw.AT_HIGH_PC)) subprograms.add(die.offset);
  }

  private void addType(Die die) {
    if (die.flag(Dw.AT_DECLARATION)) return;
    int i = die.index(Dw.AT_NAME);
    if (i < 0) return;
    String name = die.reader.stringValue(die, i);
    if (name == null) return;
    types.putIfAbsent(name, die.offset);
    long rtype = die.number(Dw.AT_GO_RUNTIME_TYPE, 0);
    if (rtype != 0) runtimeTypes.putIfAbsent(rtype, name);
  }

  private static boolean isNamedType(int tag) {
    return switch (tag) {
      case Dw.TAG_STRUCTURE_TYPE, Dw.TAG_CLASS_TYPE, Dw.TAG_UNION_TYPE, Dw.TAG_TYPEDEF,
           Dw.TAG_BASE_TYPE, Dw.TAG_ENUMERATION_TYPE, Dw.TAG_POINTER_TYPE -> true;
      default -> false;
    };
  }
}
