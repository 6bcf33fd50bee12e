package io.qpatch.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Tiny real programs built on demand with the real toolchains and cached by content
 * under {@code target/fixtures} (Delve's BuildFixture). Under {@code CI=true} a
 * missing toolchain fails the test; elsewhere it skips with the reason.
 */
public final class Fixtures {
  private static final Path CACHE = Path.of("target", "fixtures").toAbsolutePath();

  private Fixtures() {}

  /** Compiles C source to an executable (gcc -g {@code flags}); returns its path. */
  public static Path c(String name, String source, String... flags) {
    return build("gcc", name, ".c", source, flags, false);
  }

  /** Compiles C++ source to an executable (g++ -g {@code flags}). */
  public static Path cxx(String name, String source, String... flags) {
    return build("g++", name, ".cpp", source, flags, false);
  }

  /** Compiles C source to a relocatable object (gcc -c {@code flags}). */
  public static Path object(String name, String source, String... flags) {
    return build("gcc", name, ".c", source, flags, true);
  }

  /** Compiles C++ source to a relocatable object (g++ -c {@code flags}). */
  public static Path cxxObject(String name, String source, String... flags) {
    return build("g++", name, ".cpp", source, flags, true);
  }

  private static Path build(
      String compiler, String name, String ext, String source, String[] flags, boolean object) {
    requireTool(compiler);
    try {
      String key = hash(compiler + String.join(" ", flags) + object + source);
      Path dir = CACHE.resolve(name + "-" + key);
      Path out = dir.resolve(object ? name + ".o" : name);
      if (Files.exists(out)) return out;
      Files.createDirectories(dir);
      Path src = dir.resolve(name + ext);
      Files.writeString(src, source);
      List<String> cmd = new ArrayList<>(List.of(compiler, "-g"));
      cmd.addAll(List.of(flags));
      if (object) cmd.add("-c");
      cmd.addAll(List.of("-o", out + ".tmp", src.toString()));
      run(cmd);
      Files.move(Path.of(out + ".tmp"), out);
      return out;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs a command to completion; returns its stdout, fails the test if it fails. */
  public static String run(List<String> cmd) {
    return Toolchain.run(cmd.toArray(String[]::new));
  }

  /** Fails under CI=true, skips elsewhere, when {@code tool} is not on PATH. */
  public static void requireTool(String tool) {
    Toolchain.require(tool);
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
