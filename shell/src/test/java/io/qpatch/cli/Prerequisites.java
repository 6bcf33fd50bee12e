package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Tools the tests need. Missing under CI=true fails the test (CI must install them);
 * elsewhere the test is skipped and says why.
 */
final class Prerequisites {
  private Prerequisites() {}

  static void require(String tool, String install) {
    if (onPath(tool)) {
      return;
    }
    String why = tool + " is not installed (" + install + ")";
    if ("true".equals(System.getenv("CI"))) {
      fail(why + ": required under CI=true");
    }
    assumeTrue(false, "skipped: " + why);
  }

  /** The same for a file outside PATH (a daemon in /usr/sbin, say). */
  static void requireFile(Path file, String install) {
    if (Files.isExecutable(file)) return;
    String why = file + " is not installed (" + install + ")";
    if ("true".equals(System.getenv("CI"))) fail(why + ": required under CI=true");
    assumeTrue(false, "skipped: " + why);
  }

  private static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }

  /** The checkout under test, as the Maven build passes it. */
  static Path repo() {
    String repo = System.getProperty("qpatch.repo");
    if (repo == null) {
      fail("system property qpatch.repo is not set: run the tests through Maven (./run-tests)");
    }
    return Path.of(repo);
  }
}
