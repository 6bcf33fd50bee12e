package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs the real {@code ./qpatch} launcher (a JVM of its own) as a user does. The targets it
 * patches are not children of that JVM, so ProcessBuilder is fine here.
 */
final class Launcher {
  private static final Path REPO = Prerequisites.repo();

  record Result(int exit, String out, String err) {
    /** Exit status 137: killed by SIGKILL (128 + 9), as the shell reports it. */
    boolean killed() {
      return exit == 137;
    }

    @Override
    public String toString() {
      return "exit " + exit + "\nstdout:\n" + out + "stderr:\n" + err;
    }
  }

  private Launcher() {}

  static Result qpatch(String... args) {
    return qpatch(Map.of(), args);
  }

  static Result qpatch(Map<String, String> env, String... args) {
    List<String> command = new ArrayList<>(List.of(REPO.resolve("qpatch").toString()));
    command.addAll(List.of(args));
    return run(REPO, env, command);
  }

  /** {@code ./qpatch ARGS} run in {@code dir}, which has a ./qpatch link to the launcher. */
  static Result qpatchIn(Path dir, String... args) {
    List<String> command = new ArrayList<>(List.of("./qpatch"));
    command.addAll(List.of(args));
    return run(dir, Map.of(), command);
  }

  private static Result run(Path dir, Map<String, String> env, List<String> command) {
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
    builder.environment().putAll(env);
    try {
      Process process = builder.start();
      process.getOutputStream().close();
      CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
      String out = read(process.getInputStream());
      assertTrue(process.waitFor(120, TimeUnit.SECONDS), "qpatch did not finish: " + command);
      return new Result(process.exitValue(), out, err.join());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static String read(InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
