package io.qpatch.patch;

import io.qpatch.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Test targets and patches: the programs of examples/ and small ones written in the tests,
 * built with the real gcc/g++ (cached by {@link Fixtures}), started with line-buffered
 * output to a file so that a test sees each line as it is printed.
 */
public final class Targets {
  private Targets() {}

  /** The repository's examples/ directory (Maven passes the repository as qpatch.repo). */
  public static Path examples() {
    String repo = System.getProperty("qpatch.repo", "..");
    return Path.of(repo, "examples").toAbsolutePath().normalize();
  }

  public static String example(String file) {
    try {
      return Files.readString(examples().resolve(file));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An example program built from examples/FILE. */
  public static Path exampleProgram(String file, String... flags) {
    String name = file.substring(0, file.lastIndexOf('.'));
    List<String> all = new ArrayList<>(List.of(flags));
    all.add("-I" + examples());
    return file.endsWith(".cpp") ? Fixtures.cxx(name, example(file), all.toArray(String[]::new))
        : Fixtures.c(name, example(file), all.toArray(String[]::new));
  }

  /** An example patch built from examples/FILE with gcc -c or g++ -c. */
  public static Path examplePatch(String file, String... flags) {
    String name = file.substring(0, file.lastIndexOf('.'));
    List<String> all = new ArrayList<>(List.of(flags));
    all.add("-I" + examples());
    if (file.endsWith(".cpp")) return cxxObject(name, example(file), all.toArray(String[]::new));
    return Fixtures.object(name, example(file), all.toArray(String[]::new));
  }

  /** g++ -c (gcc with -x c++ before the source), cached like Fixtures' objects. */
  public static Path cxxObject(String name, String source, String... flags) {
    Fixtures.requireTool("g++");
    List<String> all = new ArrayList<>(List.of(flags));
    all.addAll(List.of("-x", "c++"));
    return Fixtures.object(name, source, all.toArray(String[]::new));
  }

  /** Lines of {@code text} after the first {@code skip} characters. */
  public static List<String> linesAfter(String text, int skip) {
    return text.substring(Math.min(skip, text.length())).lines().toList();
  }
}
