package io.qpatch.link;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.Relocation;
import io.qpatch.elf.RelocationSection;
import io.qpatch.elf.RelocationType;
import io.qpatch.testing.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** Objects for link tests: C through {@link Fixtures}, C++ objects built here, cached alike. */
final class LinkFixtures {
  private static final Path CACHE = Path.of("target", "fixtures").toAbsolutePath();

  private LinkFixtures() {}

  static Path cObject(String name, String source, String... flags) {
    return Fixtures.object(name, source, flags);
  }

  /** g++ -c {@code flags}. */
  static Path cxxObject(String name, String source, String... flags) {
    Fixtures.requireTool("g++");
    try {
      String key = hash("g++ -c " + String.join(" ", flags) + source);
      Path dir = CACHE.resolve(name + "-" + key);
      Path out = dir.resolve(name + ".o");
      if (Files.exists(out)) return out;
      Files.createDirectories(dir);
      Path src = dir.resolve(name + ".cpp");
      Files.writeString(src, source);
      List<String> cmd = new ArrayList<>(List.of("g++", "-g"));
      cmd.addAll(List.of(flags));
      cmd.addAll(List.of("-c", "-o", out + ".tmp", src.toString()));
      Fixtures.run(cmd);
      Files.move(Path.of(out + ".tmp"), out);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A relocation found in an object, with the name of its symbol and of the section it patches. */
  record Found(String section, Relocation relocation, String symbol) {
    long offset() {
      return relocation.offset();
    }

    long addend() {
      return relocation.addend();
    }
  }

  /**
   * The first relocation of {@code type} against {@code symbol} in a loaded section; fails
   * the test (with readelf's view) when the compiler did not emit it.
   */
  static Found relocation(Path object, int type, String symbol) {
    try (ElfFile elf = ElfFile.open(object)) {
      var symtab = elf.symtab().orElseThrow();
      for (RelocationSection rs : elf.relocationSections()) {
        if (rs.target() == null || !rs.target().isAlloc()) continue;
        for (Relocation r : rs.relocations()) {
          var sym = symtab.get(r.symbolIndex());
          String name = sym.type() == io.qpatch.elf.Symbol.STT_SECTION
              ? elf.section(sym.sectionIndex()).name() : sym.name();
          if (r.type() == type && name.equals(symbol)) {
            return new Found(rs.target().name(), r, name);
          }
        }
      }
    }
    String readelf = Fixtures.run(List.of("readelf", "-rW", object.toString()));
    assertTrue(false, "no " + RelocationType.name(type) + " against " + symbol + " in " + object
        + ":\n" + readelf);
    throw new AssertionError();
  }

  static long le(byte[] b, int bytes) {
    long v = 0;
    for (int i = bytes - 1; i >= 0; i--) v = (v << 8) | (b[i] & 0xff);
    return v;
  }

  /** The sign-extended 32-bit field at {@code address} of the plan. */
  static long field32(LinkPlan plan, long address) {
    return (int) le(plan.read(address, 4), 4);
  }

  static long field64(LinkPlan plan, long address) {
    return le(plan.read(address, 8), 8);
  }

  private static String hash(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 6);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
