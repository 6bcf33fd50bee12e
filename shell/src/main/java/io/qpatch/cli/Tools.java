package io.qpatch.cli;

import io.qpatch.error.BadInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/** Runs the external tools the command line needs (gcc for the demo). */
final class Tools {
  private Tools() {}

  /**
   * Runs {@code command} in {@code directory} to completion with its output captured; a tool that is missing
   * or fails is the user's to fix, so it becomes a one-line {@link BadInputException}.
   */
  static void runQuietly(List<String> command, Path directory, String tool, String installHint) {
    Process process;
    try {
      process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new BadInputException(tool + " could not be started (" + e.getMessage() + "): " + installHint);
    }
    String output = readAll(process, tool);
    int status = waitFor(process, tool);
    if (status != 0) {
      String firstLine = output.lines().findFirst().orElse("no output");
      throw new BadInputException(tool + " failed with status " + status + " on "
          + String.join(" ", command) + ": " + firstLine);
    }
  }

  private static String readAll(Process process, String tool) {
    try {
      return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new BadInputException("reading the output of " + tool + " failed: " + e.getMessage());
    }
  }

  private static int waitFor(Process process, String tool) {
    try {
      return process.waitFor();
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for " + tool, e);
    }
  }
}
