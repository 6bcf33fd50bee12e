package io.qpatch.trace;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Demangles C++ names (Itanium C++ ABI, section 5.1 "External Names") by running
 * binutils' {@code c++filt} once for the whole batch: the names are known before
 * tracing starts, so the cost is one process per session, paid before any target runs.
 * Writing our own demangler for the full grammar (templates, substitutions, lambdas)
 * would be a project of its own; c++filt comes with binutils, which gcc and g++ need.
 * Without c++filt the names stay mangled and {@link #available()} says so.
 */
public final class Demangler {
  private Demangler() {}

  /** True when a name looks mangled by the Itanium ABI. */
  public static boolean isMangled(String name) {
    return name.startsWith("_Z");
  }

  /** Whether c++filt can be run. */
  public static boolean available() {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      if (java.nio.file.Files.isExecutable(java.nio.file.Path.of(dir.isEmpty() ? "." : dir, "c++filt"))) {
        return true;
      }
    }
    return false;
  }

  /**
   * The demangled form of each name, in order; names that are not mangled, or that
   * c++filt does not change, come back as they were.
   */
  public static List<String> demangle(List<String> names) {
    List<String> mangled = names.stream().filter(Demangler::isMangled).toList();
    if (mangled.isEmpty() || !available()) return List.copyOf(names);
    List<String> out = runFilter(mangled);
    if (out.size() != mangled.size()) return List.copyOf(names);
    List<String> result = new ArrayList<>(names.size());
    int j = 0;
    for (String n : names) result.add(isMangled(n) ? out.get(j++) : n);
    return result;
  }

  private static List<String> runFilter(List<String> mangled) {
    try {
      Process p = new ProcessBuilder("c++filt").redirectError(ProcessBuilder.Redirect.DISCARD).start();
      Thread writer = Thread.ofVirtual().start(() -> feed(p, mangled));
      List<String> out = new ArrayList<>(mangled.size());
      try (BufferedReader r =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) out.add(line);
      }
      writer.join();
      return p.waitFor() == 0 ? out : List.of();
    } catch (IOException e) {
      return List.of();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return List.of();
    }
  }

  private static void feed(Process p, List<String> names) {
    try (Writer w = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8)) {
      for (String n : names) w.write(n + "\n");
    } catch (IOException e) {
      // c++filt died: the reader sees fewer lines and the names stay mangled
    }
  }
}
