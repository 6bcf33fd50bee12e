package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ./qpatch and ./gotrace launchers, run as a user runs them. Runs after
 * {@code package} (see shell/pom.xml), when shell/target/qpatch.jar exists.
 */
class LauncherIT {
  private static final Path REPO = Prerequisites.repo();
  private static final Path BUILD = REPO.resolve(".qpatch-build");
  private static final String QPATCH = REPO.resolve("qpatch").toString();
  private static final String GOTRACE = REPO.resolve("gotrace").toString();

  record Result(int exit, String out, String err) {}

  private static Result launch(Map<String, String> env, String... command) {
    ProcessBuilder builder = new ProcessBuilder(command).directory(REPO.toFile());
    builder.environment().putAll(env);
    try {
      Process process = builder.start();
      process.getOutputStream().close();
      CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
      String out = read(process.getInputStream());
      assertTrue(process.waitFor(120, TimeUnit.SECONDS), "launcher did not finish: " + List.of(command));
      return new Result(process.exitValue(), out, err.join());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  private static Result launch(String... command) {
    return launch(Map.of(), command);
  }

  private static String read(java.io.InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void qpatch_version_prints_only_the_version() {
    Result result = launch(QPATCH, "--version");
    assertEquals(new Result(0, "qpatch " + Version.number() + "\n", ""), result);
  }

  @Test
  void gotrace_help_prints_gotraces_usage() {
    Result result = launch(GOTRACE, "--help");
    assertEquals(0, result.exit(), result.err());
    assertTrue(result.out().startsWith("usage: gotrace [OPTIONS] PROGRAM [ARGS...]\n"), result.out());
    assertEquals("", result.err());
  }

  @Test
  void a_usage_error_through_the_launcher_exits_2() {
    Result result = launch(QPATCH, "info", "--bogus");
    assertEquals(2, result.exit());
    assertTrue(result.err().startsWith("qpatch: Unrecognized option: --bogus\nusage: qpatch info"), result.err());
  }

  @Test
  void parallel_first_runs_build_the_cache_once_and_print_nothing_extra() throws Exception {
    Files.deleteIfExists(BUILD.resolve("qpatch.jar"));
    deleteAotCaches();
    List<CompletableFuture<Result>> runs = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      runs.add(CompletableFuture.supplyAsync(() -> launch(GOTRACE, "--version")));
    }
    for (CompletableFuture<Result> run : runs) {
      assertEquals(new Result(0, "gotrace " + Version.number() + "\n", ""), run.get());
    }
    assertTrue(Files.exists(BUILD.resolve("qpatch.jar")));
  }

  @Test
  void a_broken_aot_cache_is_ignored_silently() throws IOException {
    launch(QPATCH, "--version");
    Path cache = onlyAotCache();
    byte[] bytes = Files.readAllBytes(cache);
    Files.write(cache, java.util.Arrays.copyOf(bytes, 4096));
    Files.setLastModifiedTime(cache, FileTime.from(Instant.now().plusSeconds(5)));
    try {
      assertEquals(new Result(0, "qpatch " + Version.number() + "\n", ""), launch(QPATCH, "--version"));
    } finally {
      Files.delete(cache);
    }
  }

  @Test
  void a_missing_gcc_is_one_line_saying_what_to_install(@TempDir Path bin) throws IOException {
    for (String tool : List.of("bash", "env", "readlink", "find", "flock", "cp", "mv", "rm", "mkdir", "head")) {
      Path real = Path.of("/usr/bin", tool);
      Files.createSymbolicLink(bin.resolve(tool), Files.exists(real) ? real : Path.of("/bin", tool));
    }
    Result result = launch(Map.of("PATH", bin.toString()), REPO.resolve("qpatch").toString(), "--version");
    assertEquals(new Result(1, "", "qpatch: gcc not found: install it (apt-get install gcc)\n"), result);
  }

  @Test
  void the_launcher_becomes_the_jvm_so_sigterm_reaches_it_and_the_demo_cleans_up() throws Exception {
    Prerequisites.require("gcc", "apt-get install gcc");
    Process demo = new ProcessBuilder(QPATCH, "demo").directory(REPO.toFile())
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    try {
      Started started = awaitCmain(demo);
      String command = ProcessHandle.of(demo.pid()).orElseThrow().info().command().orElse("");
      assertTrue(command.endsWith("/java"), "the launcher's pid runs " + command);
      demo.destroy();
      assertTrue(demo.waitFor(30, TimeUnit.SECONDS), "the demo did not stop on SIGTERM");
      assertEquals(143, demo.exitValue());
      assertCleanedUp(started);
    } finally {
      demo.destroyForcibly();
    }
  }

  @Test
  void ctrl_c_to_the_process_group_stops_the_demo_and_cmain() throws Exception {
    Prerequisites.require("gcc", "apt-get install gcc");
    Prerequisites.require("setsid", "apt-get install util-linux");
    assumeFalse(sigintIgnored(), "skipped: this test JVM was started with SIGINT ignored (run in the "
        + "background by a shell), and its children inherit that");
    // setsid: the demo gets a process group of its own, like a foreground job in a terminal.
    Process demo = new ProcessBuilder("setsid", QPATCH, "demo").directory(REPO.toFile())
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    try {
      Started started = awaitCmain(demo);
      new ProcessBuilder("kill", "-INT", "--", "-" + demo.pid()).start().waitFor();
      assertTrue(demo.waitFor(30, TimeUnit.SECONDS), "the demo did not stop on Ctrl-C");
      assertEquals(130, demo.exitValue());
      assertCleanedUp(started);
    } finally {
      demo.destroyForcibly();
    }
  }

  private record Started(long cmain, Path dir) {}

  /** Reads the demo's output up to "started cmain, pid N": its temp dir and cmain's pid. */
  private static Started awaitCmain(Process demo) throws IOException {
    Pattern building = Pattern.compile("building the examples with gcc in (\\S+)");
    Pattern started = Pattern.compile("started cmain, pid (\\d+)");
    Path dir = null;
    var lines = demo.inputReader();
    for (String line = lines.readLine(); line != null; line = lines.readLine()) {
      Matcher matcher = building.matcher(line);
      if (matcher.find()) {
        dir = Path.of(matcher.group(1));
      }
      matcher = started.matcher(line);
      if (matcher.find() && dir != null) {
        return new Started(Long.parseLong(matcher.group(1)), dir);
      }
    }
    throw new AssertionError("the demo never said it started cmain");
  }

  /** cmain is neither running nor a zombie, and the demo's temp dir is gone. */
  private static void assertCleanedUp(Started started) {
    assertFalse(Files.exists(Path.of("/proc", Long.toString(started.cmain()))),
        "cmain " + started.cmain() + " left behind");
    assertFalse(Files.exists(started.dir()), started.dir() + " left behind");
  }

  /** SigIgn in /proc/self/status is a hex mask; SIGINT is signal 2, bit 1. */
  private static boolean sigintIgnored() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("SigIgn:")) {
        return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & 0b10) != 0;
      }
    }
    return false;
  }

  private static Path onlyAotCache() throws IOException {
    try (var files = Files.list(BUILD)) {
      // The JS build keeps its own cache (qpatch-js-*.aot) beside it: not this launcher's.
      List<Path> caches = files.filter(path -> path.toString().endsWith(".aot"))
          .filter(path -> !path.getFileName().toString().startsWith("qpatch-js-")).toList();
      assertEquals(1, caches.size(), caches.toString());
      return caches.getFirst();
    }
  }

  private static void deleteAotCaches() throws IOException {
    if (!Files.isDirectory(BUILD)) {
      return;
    }
    try (var files = Files.list(BUILD)) {
      for (Path path : files.filter(path -> path.toString().endsWith(".aot")).toList()) {
        Files.delete(path);
      }
    }
  }
}
