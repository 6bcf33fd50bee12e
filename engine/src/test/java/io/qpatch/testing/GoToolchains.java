package io.qpatch.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Go toolchains installed on this machine, and Go fixtures built with each, cached by
 * source, flags and toolchain version under {@code target/go-fixtures} (Delve's
 * BuildFixture). Builds are hermetic: GOPATH and GOCACHE under target/, CGO_ENABLED=0,
 * GOTOOLCHAIN=local, GOPROXY=off, GOFLAGS empty.
 *
 * <p>Under {@code CI=true} every toolchain in {@link #REQUIRED} must be installed, or
 * {@link #all()} fails the test; elsewhere a missing toolchain is skipped and
 * {@link #all()} with none at all skips with the reason.
 */
public final class GoToolchains {
  /** The versions CI installs (.ci/install-deps): Debian's 1.19 and bookworm-backports'. */
  public static final List<String> REQUIRED = List.of("1.19", "1.21", "1.22", "1.23");

  private static final Path ROOT = Path.of("target").toAbsolutePath();
  private static final Path CACHE = ROOT.resolve("go-fixtures");
  private static final List<Path> CANDIDATES = candidates();
  private static volatile List<GoToolchain> installed;

  private GoToolchains() {}

  /** One installed toolchain: its {@code go} command and {@code go version}'s "go1.21.13". */
  public record GoToolchain(Path go, String version) {
    /** "1.21". */
    public String majorMinor() {
      String[] parts = version.substring(2).split("[.a-z]");
      return parts[0] + "." + parts[1];
    }

    /** Runs {@code go ARGS...} with the hermetic environment; returns its output. */
    public String run(Path dir, String... args) {
      return run(dir, false, args);
    }

    private String run(Path dir, boolean cgo, String... args) {
      List<String> cmd = new ArrayList<>(List.of(go.toString()));
      cmd.addAll(List.of(args));
      Map<String, String> env = env(majorMinor());
      if (cgo) env.put("CGO_ENABLED", "1");
      return GoToolchains.run(dir, cmd, env);
    }

    /**
     * {@code go tool nm FILE}: name -> addresses of every text symbol (type T or t); ABI
     * wrappers share their function's name, so a name can have two addresses.
     */
    public Map<String, List<Long>> nmText(Path binary) {
      Map<String, List<Long>> out = new LinkedHashMap<>();
      for (String line : run(binary.getParent(), "tool", "nm", binary.toString()).split("\n")) {
        String[] f = line.trim().split("\\s+", 3);
        if (f.length == 3 && (f[1].equals("T") || f[1].equals("t"))) {
          out.computeIfAbsent(f[2], k -> new ArrayList<>()).add(Long.parseUnsignedLong(f[0], 16));
        }
      }
      return out;
    }

    /**
     * Builds {@code source} (a main package) as executable {@code name}, with extra
     * {@code go build} flags (e.g. "-ldflags=-s -w"); cached.
     */
    public Path build(String name, String source, String... flags) {
      return GoToolchains.build(this, name, source, false, flags);
    }

    /** Like {@link #build} with CGO_ENABLED=1, for -linkmode=external (needs gcc). */
    public Path buildCgo(String name, String source, String... flags) {
      Fixtures.requireTool("gcc");
      return GoToolchains.build(this, name, source, true, flags);
    }

    @Override
    public String toString() {
      return version;
    }
  }

  /**
   * Every toolchain found, one per version, oldest first. Under CI=true fails when one of
   * {@link #REQUIRED} is missing; elsewhere skips when none is installed.
   */
  public static List<GoToolchain> all() {
    List<GoToolchain> list = installed();
    if ("true".equals(System.getenv("CI"))) {
      for (String want : REQUIRED) {
        if (list.stream().noneMatch(t -> t.majorMinor().equals(want))) {
          throw new AssertionError("Go " + want + " is required under CI=true but is not"
              + " installed (found " + list + "); see .ci/install-deps");
        }
      }
    }
    assumeTrue(!list.isEmpty(), "no Go toolchain installed: test skipped");
    return list;
  }

  /** The newest installed toolchain (skips, or fails under CI, like {@link #all()}). */
  public static GoToolchain newest() {
    return all().getLast();
  }

  private static List<GoToolchain> installed() {
    List<GoToolchain> list = installed;
    if (list == null) {
      Map<String, GoToolchain> byVersion = new LinkedHashMap<>();
      for (Path go : CANDIDATES) {
        if (!Files.isExecutable(go)) continue;
        String v = run(ROOT, List.of(go.toString(), "env", "GOVERSION"), env("probe")).trim();
        if (v.startsWith("go")) byVersion.putIfAbsent(v, new GoToolchain(go, v));
      }
      list = new ArrayList<>(byVersion.values());
      list.sort((a, b) -> compareVersions(a.version(), b.version()));
      installed = list = List.copyOf(list);
    }
    return list;
  }

  private static List<Path> candidates() {
    List<Path> list = new ArrayList<>();
    for (int minor = 13; minor <= 30; minor++) list.add(Path.of("/usr/lib/go-1." + minor, "bin", "go"));
    list.add(Path.of("/usr/lib/go/bin/go"));
    list.add(Path.of("/usr/local/go/bin/go"));
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!dir.isEmpty()) list.add(Path.of(dir, "go"));
    }
    return list;
  }

  private static int compareVersions(String a, String b) {
    String[] x = a.substring(2).split("\\D+");
    String[] y = b.substring(2).split("\\D+");
    for (int i = 0; i < Math.max(x.length, y.length); i++) {
      int c = Integer.compare(i < x.length ? Integer.parseInt(x[i]) : 0,
          i < y.length ? Integer.parseInt(y[i]) : 0);
      if (c != 0) return c;
    }
    return 0;
  }

  private static Map<String, String> env(String cacheKey) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("GOPATH", ROOT.resolve("go-path").toString());
    env.put("GOCACHE", ROOT.resolve("go-cache").resolve(cacheKey).toString());
    env.put("GOMODCACHE", ROOT.resolve("go-path").resolve("pkg").resolve("mod").toString());
    env.put("CGO_ENABLED", "0");
    env.put("GOTOOLCHAIN", "local");
    env.put("GOPROXY", "off");
    env.put("GOFLAGS", "");
    env.put("GO111MODULE", "on");
    env.put("GOENV", "off");
    return env;
  }

  private static synchronized Path build(GoToolchain tc, String name, String source,
      boolean cgo, String[] flags) {
    try {
      String key = hash(tc.version() + "\0" + cgo + "\0" + String.join("\0", flags) + "\0"
          + source);
      Path dir = CACHE.resolve(name + "-" + tc.majorMinor() + "-" + key);
      Path out = dir.resolve(name);
      if (Files.exists(out)) return out;
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("main.go"), source);
      Files.writeString(dir.resolve("go.mod"), "module fixture\n\ngo 1.19\n");
      List<String> args = new ArrayList<>(List.of("build", "-o", out + ".tmp"));
      args.addAll(List.of(flags));
      args.add(".");
      tc.run(dir, cgo, args.toArray(String[]::new));
      Files.move(Path.of(out + ".tmp"), out);
      return out;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String run(Path dir, List<String> cmd, Map<String, String> env) {
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
      pb.environment().putAll(env);
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(10, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new AssertionError(String.join(" ", cmd) + " timed out");
      }
      if (p.exitValue() != 0) throw new AssertionError(String.join(" ", cmd) + " failed:\n" + out);
      return out;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
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
