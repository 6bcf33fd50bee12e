package io.qpatch.elf;

import io.qpatch.error.BadInputException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An ELF64 x86-64 file: relocatable object, executable (PIE or not) or shared object.
 *
 * <p>Opening reads and checks only the file header and the section and program header
 * tables, so libc or libstdc++ open in well under a millisecond of parsing; symbol tables,
 * relocations, groups and notes are parsed on first use and kept. Every value taken from
 * the file is bounds-checked: a truncated or corrupt file gives a {@link BadInputException}
 * that names the file and what is wrong.
 *
 * <p>A file opened with {@link #open} is memory-mapped; the mapping, and every
 * {@link Section#data()} slice, stays valid until {@link #close()}.
 */
public final class ElfFile implements AutoCloseable {
  private final ElfReader reader;
  private final Arena arena;
  private final ElfHeader header;
  private final List<Section> sections;
  private final List<ProgramHeader> programHeaders;
  private final Map<Integer, SymbolTable> symbolTables = new HashMap<>();
  private List<RelocationSection> relocations;
  private List<ComdatGroup> groups;
  private List<Note> notes;

  private ElfFile(ElfReader reader, Arena arena) {
    this.reader = reader;
    this.arena = arena;
    this.header = ElfHeader.read(reader);
    this.sections = HeaderTables.sections(reader, header);
    this.programHeaders = HeaderTables.programHeaders(reader, header);
  }

  /** Maps and opens {@code path}; messages name the file as {@code path} is spelled. */
  public static ElfFile open(Path path) {
    return open(path, path.toString());
  }

  /**
   * Maps and opens {@code path}, naming it {@code displayName} in messages (useful when the
   * path is a /proc/PID/map_files link but the user knows the file as "libc.so.6").
   */
  public static ElfFile open(Path path, String displayName) {
    Arena arena = Arena.ofShared();
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      MemorySegment image = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
      return new ElfFile(new ElfReader(displayName, image), arena);
    } catch (IOException e) {
      arena.close();
      throw new BadInputException(displayName + ": cannot read: " + describe(e), e);
    } catch (RuntimeException e) {
      arena.close();
      throw e;
    }
  }

  /** An image already in memory, e.g. the [vdso] read from a process; not copied. */
  public static ElfFile of(String name, MemorySegment image) {
    return new ElfFile(new ElfReader(name, image), null);
  }

  public static ElfFile of(String name, byte[] image) {
    return of(name, MemorySegment.ofArray(image));
  }

  private static String describe(IOException e) {
    String kind = e.getClass().getSimpleName().replace("Exception", "");
    return switch (kind) {
      case "NoSuchFile" -> "no such file";
      case "AccessDenied" -> "permission denied";
      default -> e.getMessage() == null ? kind : e.getMessage();
    };
  }

  /** The name messages use for this file. */
  public String name() {
    return reader.name();
  }

  public long size() {
    return reader.size();
  }

  public ElfHeader header() {
    return header;
  }

  public List<Section> sections() {
    return sections;
  }

  /** Section {@code index}; a bad index (from the file) is a BadInputException. */
  public Section section(int index) {
    if (index < 0 || index >= sections.size()) {
      throw reader.bad(String.format("section index %d out of range (%d sections)",
          index, sections.size()));
    }
    return sections.get(index);
  }

  /** The first section called {@code name}. */
  public Optional<Section> section(String name) {
    return sections.stream().filter(s -> s.name().equals(name)).findFirst();
  }

  public List<ProgramHeader> programHeaders() {
    return programHeaders;
  }

  /** The full symbol table, absent when the file is stripped. */
  public Optional<SymbolTable> symtab() {
    return firstOfType(Section.SHT_SYMTAB).map(this::symbolTable);
  }

  /** The dynamic symbol table, with GNU versions; absent in relocatable and static files. */
  public Optional<SymbolTable> dynsym() {
    return firstOfType(Section.SHT_DYNSYM).map(this::symbolTable);
  }

  /** The symbol table held in {@code section} (SHT_SYMTAB or SHT_DYNSYM). */
  public synchronized SymbolTable symbolTable(Section section) {
    if (section.type() != Section.SHT_SYMTAB && section.type() != Section.SHT_DYNSYM) {
      throw reader.bad(section.label() + " is not a symbol table");
    }
    SymbolTable table = symbolTables.get(section.index());
    if (table == null) {
      table = SymbolTable.read(reader, sections, section);
      symbolTables.put(section.index(), table);
    }
    return table;
  }

  /** Every SHT_RELA section with its entries. SHT_REL has no place on x86-64. */
  public synchronized List<RelocationSection> relocationSections() {
    if (relocations == null) {
      List<RelocationSection> list = new ArrayList<>();
      for (Section s : sections) {
        if (s.type() == Section.SHT_REL) {
          throw reader.bad(s.label() + ": SHT_REL relocations; x86-64 uses SHT_RELA only"
              + " (psABI 4.4)");
        }
        if (s.type() == Section.SHT_RELA) {
          list.add(RelocationSection.read(reader, this, sections, s));
        }
      }
      relocations = List.copyOf(list);
    }
    return relocations;
  }

  /** Every SHT_GROUP section (COMDAT groups in C++ objects). */
  public synchronized List<ComdatGroup> groups() {
    if (groups == null) {
      List<ComdatGroup> list = new ArrayList<>();
      for (Section s : sections) {
        if (s.type() == Section.SHT_GROUP) list.add(ComdatGroup.read(reader, this, sections, s));
      }
      groups = List.copyOf(list);
    }
    return groups;
  }

  public synchronized List<Note> notes() {
    if (notes == null) notes = Notes.read(reader, sections, programHeaders);
    return notes;
  }

  /** The GNU build-id in lowercase hex, as {@code readelf -n} prints it. */
  public Optional<String> buildId() {
    return notes().stream().filter(Note::isBuildId).map(Note::descriptorHex).findFirst();
  }

  public Optional<DebugLink> debugLink() {
    return section(".gnu_debuglink").map(s -> DebugLink.read(reader, s));
  }

  private Optional<Section> firstOfType(int type) {
    return sections.stream().filter(s -> s.type() == type).findFirst();
  }

  /** Unmaps a file opened with {@link #open}; its sections' data is unusable afterwards. */
  @Override
  public void close() {
    if (arena != null) arena.close();
  }

  @Override
  public String toString() {
    return name() + " (" + header.type() + ", " + sections.size() + " sections)";
  }
}
