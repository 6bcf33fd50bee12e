package io.qpatch.patch;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.ElfType;
import io.qpatch.elf.Section;
import io.qpatch.elf.Symbol;
import io.qpatch.elf.SymbolTable;
import io.qpatch.error.BadInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A patch as the user gave it: a relocatable object file, its identity (absolute path and
 * SHA-256 of the content) and what its symbols ask for.
 *
 * <ul>
 *   <li>Replacements: global, non-weak functions defined in the object outside COMDAT
 *       groups (so C++ inline functions and template instances, which the target already
 *       has, never replace anything). Those whose name the target defines replace it;
 *       the others are helpers.
 *   <li>Hooks: {@code _qpatch_hookfun_NAME} takes over NAME. For C++ NAME is the mangled
 *       name and the hook is declared {@code extern "C"}.
 *   <li>Entry points: {@code _qpatch_init} and the four {@code _pat_callback_*} functions.
 *   <li>Target build-ids: the NUL-separated hex strings of a section {@code .qpatch.target}
 *       ({@code QPATCH_TARGET_BUILD_ID("...")} in examples/qpatch.h).
 * </ul>
 */
public final class PatchObject implements AutoCloseable {
  public static final String HOOK_PREFIX = "_qpatch_hookfun_";
  public static final String TARGET_SECTION = ".qpatch.target";

  private final Path path;
  private final byte[] sha256;
  private final ElfFile elf;
  private final SymbolTable symtab;

  private PatchObject(Path path, byte[] sha256, ElfFile elf) {
    this.path = path;
    this.sha256 = sha256;
    this.elf = elf;
    this.symtab = elf.symtab().orElseThrow(() ->
        new BadInputException(path + ": no symbol table; was the object stripped?"));
  }

  /** Reads and checks {@code file}: an x86-64 ELF relocatable object. */
  public static PatchObject open(Path file) {
    Path path = file.toAbsolutePath().normalize();
    byte[] bytes = readAll(path);
    ElfFile elf = ElfFile.of(path.toString(), bytes);
    if (elf.header().type() != ElfType.REL) {
      throw new BadInputException(path + ": not a relocatable object (ELF type "
          + elf.header().type() + "); build the patch with gcc -c or g++ -c");
    }
    return new PatchObject(path, sha256(bytes), elf);
  }

  private static byte[] readAll(Path path) {
    try {
      if (Files.isDirectory(path)) throw new BadInputException(path + ": is a directory, not a .o file");
      return Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      throw new BadInputException(path + ": no such file");
    } catch (IOException e) {
      throw new BadInputException(path + ": cannot read: " + e.getMessage());
    }
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  public Path path() {
    return path;
  }

  /** The file name, how messages and {@code qpatch -q} name the patch. */
  public String name() {
    return path.getFileName().toString();
  }

  public byte[] sha256() {
    return sha256.clone();
  }

  public ElfFile elf() {
    return elf;
  }

  /** Candidate replacements: symbol name to the symbol defining it in the object. */
  public Map<String, Symbol> replacements() {
    Set<Integer> grouped = groupedSections();
    Map<String, Symbol> out = new LinkedHashMap<>();
    for (Symbol s : symtab.symbols()) {
      if (!s.isFunction() || !s.isDefined() || s.bind() != Symbol.STB_GLOBAL) continue;
      if (grouped.contains(s.sectionIndex()) || isSpecial(s.name())) continue;
      out.put(s.name(), s);
    }
    return out;
  }

  /** Hooks: hooked function name to the hook's symbol. */
  public Map<String, Symbol> hooks() {
    Map<String, Symbol> out = new LinkedHashMap<>();
    for (Symbol s : symtab.symbols()) {
      if (!s.isFunction() || !s.isDefined() || !s.name().startsWith(HOOK_PREFIX)) continue;
      String target = s.name().substring(HOOK_PREFIX.length());
      if (target.isEmpty()) {
        throw new BadInputException(path + ": " + s.name() + " names no function to hook");
      }
      out.put(target, s);
    }
    return out;
  }

  /** Which of the init function and callbacks the object defines, by name. */
  public List<String> entryPointNames() {
    List<String> out = new ArrayList<>();
    for (Symbol s : symtab.symbols()) {
      if (s.isFunction() && s.isDefined() && EntryPoints.isSpecial(s.name())) out.add(s.name());
    }
    return out;
  }

  /** The build-ids the patch says it is for (lowercase hex); empty when it does not say. */
  public List<String> targetBuildIds() {
    Section s = elf.section(TARGET_SECTION).orElse(null);
    if (s == null) return List.of();
    if (s.type() == Section.SHT_NOBITS) {
      throw new BadInputException(path + ": section " + TARGET_SECTION + " holds no bytes");
    }
    String text = new String(s.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
        StandardCharsets.US_ASCII);
    List<String> ids = new ArrayList<>();
    for (String part : text.split("\0")) {
      String id = part.strip().toLowerCase(java.util.Locale.ROOT);
      if (id.isEmpty()) continue;
      if (!id.matches("[0-9a-f]{2,128}")) {
        throw new BadInputException(path + ": " + TARGET_SECTION + " holds '" + part.strip()
            + "', not a build-id in hex (readelf -n TARGET shows it)");
      }
      ids.add(id);
    }
    return ids;
  }

  private Set<Integer> groupedSections() {
    Set<Integer> grouped = new HashSet<>();
    elf.groups().forEach(g -> grouped.addAll(g.members()));
    return grouped;
  }

  private static boolean isSpecial(String name) {
    return name.startsWith(HOOK_PREFIX) || EntryPoints.isSpecial(name);
  }

  @Override
  public void close() {
    elf.close();
  }

  @Override
  public String toString() {
    return "PatchObject[" + path + "]";
  }
}
