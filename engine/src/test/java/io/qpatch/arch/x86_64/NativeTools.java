package io.qpatch.arch.x86_64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Test prerequisites and external tools. A missing prerequisite skips the test with the
 * reason, except under CI=true, where it fails it (the CI machine must have everything).
 */
final class NativeTools {
  private NativeTools() {}

  static final Path LIBC = Path.of("/lib/x86_64-linux-gnu/libc.so.6");

  static void requireCapstone() {
    require(Capstone.isAvailable(), "libcapstone.so.4 not found: apt-get install libcapstone4");
  }

  static void requireTool(String tool, String debianPackage) {
    boolean found = List.of(System.getenv().getOrDefault("PATH", "/usr/bin").split(":")).stream()
        .anyMatch(dir -> Files.isExecutable(Path.of(dir, tool)));
    require(found, tool + " not found: apt-get install " + debianPackage);
  }

  static void requireFile(Path path, String debianPackage) {
    require(Files.exists(path), path + " not found: apt-get install " + debianPackage);
  }

  /** Mount namespaces and bind mounts need root (CAP_SYS_ADMIN). */
  static void requireRoot(String forWhat) {
    require("root".equals(System.getProperty("user.name")), forWhat + " needs root");
  }

  private static void require(boolean present, String why) {
    if (present) return;
    if ("true".equals(System.getenv("CI"))) fail("prerequisite missing under CI: " + why);
    Assumptions.abort("skipped: " + why);
  }

  /** Runs {@code cmd}, fails the test unless it exits 0 within a minute, returns stdout. */
  static String run(Path dir, String... cmd) throws IOException, InterruptedException {
    Path err = Files.createTempFile("qpatch-test", ".err");
    try {
      Process p = new ProcessBuilder(cmd).directory(dir.toFile())
          .redirectError(err.toFile()).start();
      try {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) fail("timed out: " + String.join(" ", cmd));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed: " + Files.readString(err));
        return out;
      } finally {
        p.destroyForcibly();
      }
    } finally {
      Files.deleteIfExists(err);
    }
  }
}
