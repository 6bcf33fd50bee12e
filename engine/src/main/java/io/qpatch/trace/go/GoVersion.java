package io.qpatch.trace.go;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Go toolchain version as the runtime reports it: "go1.21.13", "go1.22rc1",
 * "devel go1.23-4a5b6c7 ...". Release candidates and betas count as their release's
 * minor version with patch 0.
 *
 * @param text the string exactly as found in the binary
 */
public record GoVersion(int major, int minor, int patch, String text)
    implements Comparable<GoVersion> {
  private static final Pattern GO = Pattern.compile("go(\\d+)\\.(\\d+)(?:\\.(\\d+))?");

  /** Parses {@code text}; a string without "goN.M" gives 0.0.0 (unknown). */
  public static GoVersion parse(String text) {
    Matcher m = GO.matcher(text);
    if (!m.find()) return new GoVersion(0, 0, 0, text);
    int patch = m.group(3) == null ? 0 : Integer.parseInt(m.group(3));
    return new GoVersion(parseInt(m.group(1)), parseInt(m.group(2)), patch, text);
  }

  private static int parseInt(String s) {
    return s.length() > 6 ? Integer.MAX_VALUE : Integer.parseInt(s);
  }

  public boolean isKnown() {
    return major > 0;
  }

  /** True when this is Go {@code major.minor} or later. */
  public boolean atLeast(int wantMajor, int wantMinor) {
    return major > wantMajor || (major == wantMajor && minor >= wantMinor);
  }

  /** "1.21". */
  public String majorMinor() {
    return major + "." + minor;
  }

  @Override
  public int compareTo(GoVersion o) {
    if (major != o.major) return Integer.compare(major, o.major);
    if (minor != o.minor) return Integer.compare(minor, o.minor);
    return Integer.compare(patch, o.patch);
  }

  @Override
  public String toString() {
    return text;
  }
}
