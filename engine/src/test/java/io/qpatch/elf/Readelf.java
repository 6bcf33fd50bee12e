package io.qpatch.elf;

import io.qpatch.testing.Toolchain;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs GNU readelf and parses the parts of its output the tests compare against. */
final class Readelf {
  record SectionRow(int index, String name, String type, long addr, long offset, long size) {}

  record SymbolRow(int index, long value, long size, String type, String bind, String vis,
      String ndx, String name) {}

  record RelocationRow(long offset, long info, String typeName) {}

  record GroupRow(int index, String signature, List<Integer> members) {}

  record SegmentRow(String type, long offset, long vaddr, long filesz, long memsz) {}

  private static final Pattern SECTION = Pattern.compile(
      "^\\s*\\[\\s*(\\d+)]\\s(.{17,}?)\\s+([A-Z_0-9+a-z]+)\\s+([0-9a-f]{16})\\s+([0-9a-f]+)"
          + "\\s+([0-9a-f]+)\\s");
  private static final Pattern SYMBOL_TABLE =
      Pattern.compile("^Symbol table '([^']+)' contains \\d+ entr");
  private static final Pattern SYMBOL = Pattern.compile(
      "^\\s*(\\d+):\\s+([0-9a-f]+)\\s+(\\d+|0x[0-9a-f]+)\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)"
          + "\\s+(\\S+)\\s?(.*)$");
  private static final Pattern RELOCATION_SECTION =
      Pattern.compile("^Relocation section '([^']+)' at offset");
  private static final Pattern RELOCATION =
      Pattern.compile("^([0-9a-f]{16})\\s+([0-9a-f]{16})\\s+(R_X86_64_\\S+)");
  private static final Pattern GROUP =
      Pattern.compile("^COMDAT group section \\[\\s*(\\d+)] `[^']*' \\[([^\\]]+)]");
  private static final Pattern GROUP_MEMBER = Pattern.compile("^\\s+\\[\\s*(\\d+)]\\s+\\S");
  private static final Pattern SEGMENT = Pattern.compile(
      "^\\s+([A-Z_]+)\\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x[0-9a-f]+ 0x([0-9a-f]+) 0x([0-9a-f]+)");
  private static final Pattern BUILD_ID = Pattern.compile("Build ID: ([0-9a-f]+)");

  private Readelf() {}

  static List<SectionRow> sections(Path file) {
    List<SectionRow> rows = new ArrayList<>();
    for (String line : lines("-SW", file)) {
      Matcher m = SECTION.matcher(line);
      if (m.find()) {
        rows.add(new SectionRow(Integer.parseInt(m.group(1)), m.group(2).strip(), m.group(3),
            hex(m.group(4)), hex(m.group(5)), hex(m.group(6))));
      }
    }
    return rows;
  }

  /** Symbol rows per table name (".symtab", ".dynsym"). */
  static Map<String, List<SymbolRow>> symbols(Path file, String option) {
    Map<String, List<SymbolRow>> tables = new LinkedHashMap<>();
    List<SymbolRow> current = null;
    for (String line : lines(option, file)) {
      Matcher t = SYMBOL_TABLE.matcher(line);
      if (t.find()) {
        current = new ArrayList<>();
        tables.put(t.group(1), current);
        continue;
      }
      Matcher m = SYMBOL.matcher(line);
      if (current != null && m.find()) {
        String size = m.group(3);
        current.add(new SymbolRow(Integer.parseInt(m.group(1)), hex(m.group(2)),
            size.startsWith("0x") ? hex(size.substring(2)) : Long.parseLong(size),
            m.group(4), m.group(5), m.group(6), m.group(7), m.group(8)));
      }
    }
    return tables;
  }

  static Map<String, List<RelocationRow>> relocations(Path file) {
    Map<String, List<RelocationRow>> sections = new HashMap<>();
    List<RelocationRow> current = null;
    for (String line : lines("-rW", file)) {
      Matcher s = RELOCATION_SECTION.matcher(line);
      if (s.find()) {
        current = new ArrayList<>();
        sections.put(s.group(1), current);
        continue;
      }
      Matcher m = RELOCATION.matcher(line);
      if (current != null && m.find()) {
        current.add(new RelocationRow(hex(m.group(1)), hex(m.group(2)), m.group(3)));
      }
    }
    return sections;
  }

  static List<GroupRow> groups(Path file) {
    List<GroupRow> groups = new ArrayList<>();
    List<Integer> members = null;
    for (String line : lines("-gW", file)) {
      Matcher g = GROUP.matcher(line);
      if (g.find()) {
        members = new ArrayList<>();
        groups.add(new GroupRow(Integer.parseInt(g.group(1)), g.group(2), members));
        continue;
      }
      Matcher m = GROUP_MEMBER.matcher(line);
      if (members != null && m.find()) members.add(Integer.parseInt(m.group(1)));
    }
    return groups;
  }

  static List<SegmentRow> segments(Path file) {
    List<SegmentRow> rows = new ArrayList<>();
    for (String line : lines("-lW", file)) {
      Matcher m = SEGMENT.matcher(line);
      if (m.find()) {
        rows.add(new SegmentRow(m.group(1), hex(m.group(2)), hex(m.group(3)), hex(m.group(4)),
            hex(m.group(5))));
      }
    }
    return rows;
  }

  static String buildId(Path file) {
    for (String line : lines("-nW", file)) {
      Matcher m = BUILD_ID.matcher(line);
      if (m.find()) return m.group(1);
    }
    return null;
  }

  static long entry(Path file) {
    for (String line : lines("-hW", file)) {
      if (line.strip().startsWith("Entry point address:")) {
        return Long.decode(line.substring(line.indexOf(':') + 1).strip());
      }
    }
    throw new AssertionError("no entry point in readelf -h output");
  }

  /** {@code options}: readelf options separated by spaces, e.g. "--dyn-syms -W". */
  private static List<String> lines(String options, Path file) {
    List<String> command = new ArrayList<>(List.of("readelf"));
    command.addAll(List.of(options.split(" ")));
    command.add(file.toString());
    return Toolchain.run(file.getParent(), command.toArray(String[]::new)).lines().toList();
  }

  private static long hex(String s) {
    return Long.parseUnsignedLong(s, 16);
  }
}
