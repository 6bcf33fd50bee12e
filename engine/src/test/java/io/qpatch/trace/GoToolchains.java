package io.qpatch.trace;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The installed Go toolchains (Debian's golang-1.NN-go under /usr/lib/go-1.NN) and Go
 * fixtures built with them, cached by content under target/fixtures. Under CI=true a
 * machine without Go fails the tests that need it; elsewhere they skip saying why.
 */
final class GoToolchains {
  private static final Path CACHE = Path.of("target", "fixtures").toAbsolutePath();

  private GoToolchains() {}

  /** Every /usr/lib/go-1.NN/bin/go, oldest first. */
  static List<Path> installed() {
    List<Path> out = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(Path.of("/usr/lib"))) {
      dirs.filter(d -> d.getFileName().toString().matches("go-1\\.\\d+"))
          .map(d -> d.resolve("bin/go")).filter(Files::isExecutable)
          .sorted((a, b) -> Integer.compare(minor(a), minor(b))).forEach(out::add);
    } catch (IOException e) {
      // no /usr/lib: none
    }
    return out;
  }

  static List<Path> requireSome() {
    List<Path> all = installed();
    if (all.isEmpty() && "true".equals(System.getenv("CI"))) {
      throw new AssertionError("no Go toolchain under /usr/lib/go-1.*: .ci/run must install them");
    }
    assumeTrue(!all.isEmpty(), "no Go toolchain under /usr/lib/go-1.*: Go tests skipped");
    return all;
  }

  static int minor(Path go) {
    String dir = go.getParent().getParent().getFileName().toString();
    return Integer.parseInt(dir.substring(dir.indexOf('.') + 1));
  }

  static String label(Path go) {
    return "go1." + minor(go);
  }

  /** Builds {@code source} (package main) with {@code go}; returns the executable. */
  static Path build(Path go, String name, String source, String... ldflags) {
    try {
      String key = hash(go + String.join(" ", ldflags) + source);
      Path dir = CACHE.resolve("go-" + name + "-" + label(go) + "-" + key);
      Path out = dir.resolve(name);
      if (Files.exists(out)) return out;
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("main.go"), source);
      List<String> cmd = new ArrayList<>(List.of(go.toString(), "build", "-o", out + ".tmp"));
      if (ldflags.length > 0) cmd.add("-ldflags=" + String.join(" ", ldflags));
      cmd.add("main.go");
      run(cmd, dir);
      Files.move(Path.of(out + ".tmp"), out);
      return out;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void run(List<String> cmd, Path dir) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().put("GOCACHE", CACHE.resolve("gocache").toString());
    pb.environment().put("GOPATH", CACHE.resolve("gopath").toString());
    pb.environment().put("CGO_ENABLED", "0");
    pb.environment().put("GOTOOLCHAIN", "local");
    pb.environment().put("GOFLAGS", "-buildvcs=false");
    pb.environment().put("GO111MODULE", "off");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new AssertionError(String.join(" ", cmd) + " failed:\n" + out);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
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
