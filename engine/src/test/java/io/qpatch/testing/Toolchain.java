package io.qpatch.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Builds test fixtures with the real gcc/g++ and runs the real binutils. A missing tool
 * fails the test under CI=true and skips it, saying which tool, otherwise.
 */
public final class Toolchain {
  private Toolchain() {}

  /** Fails (CI) or skips (elsewhere) unless {@code tool} is on the PATH. */
  public static void require(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) return;
    }
    String why = tool + " is not installed; this test builds or inspects real binaries with it";
    if ("true".equals(System.getenv("CI"))) fail(why);
    Assumptions.abort(why);
  }

  /**
   * Writes {@code source} to {@code dir/sourceName} and compiles it to {@code dir/output}
   * with gcc (or g++ for a .cpp name) and {@code flags}.
   */
  public static Path compile(
      Path dir, String sourceName, String source, String output, String... flags) {
    String compiler = sourceName.endsWith(".cpp") ? "g++" : "gcc";
    require(compiler);
    try {
      Files.writeString(dir.resolve(sourceName), source);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    // Flags after the source, so that libraries (-lfoo) come after the code using them.
    List<String> command = new ArrayList<>(List.of(compiler, sourceName, "-o", output));
    command.addAll(List.of(flags));
    run(dir, command.toArray(String[]::new));
    return dir.resolve(output);
  }

  /** Runs {@code command} in {@code dir}; returns stdout, fails the test on a non-zero exit. */
  public static String run(Path dir, String... command) {
    if (!command[0].contains("/")) require(command[0]);
    Path errors = null;
    try {
      errors = Files.createTempFile("qpatch-test-", ".stderr");
      Process p = new ProcessBuilder(command).directory(dir.toFile())
          .redirectError(errors.toFile()).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        fail(String.join(" ", command) + ": timed out");
      }
      if (p.exitValue() != 0) {
        fail(String.join(" ", command) + " exited " + p.exitValue() + ":\n"
            + Files.readString(errors));
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } finally {
      deleteQuietly(errors);
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      if (file != null) Files.deleteIfExists(file);
    } catch (IOException e) {
      // A leftover file in /tmp does not change what the test proved.
    }
  }

  public static String run(String... command) {
    return run(Path.of("."), command);
  }
}
