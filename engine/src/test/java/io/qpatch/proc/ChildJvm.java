package io.qpatch.proc;

import java.util.ArrayList;
import java.util.List;

/** A JVM of the tests' own classpath running one main class, for tests that kill or watch it. */
final class ChildJvm {
  private ChildJvm() {}

  /**
   * {@code java [props...] main args...} as a ProcessBuilder, its output and errors merged.
   * C1 only and the serial GC: a small, quick child.
   */
  static ProcessBuilder of(Class<?> main, List<String> props, List<String> args) {
    String java = ProcessHandle.current().info().command().orElseThrow();
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", cp));
    cmd.addAll(props);
    cmd.add(main.getName());
    cmd.addAll(args);
    return new ProcessBuilder(cmd).redirectErrorStream(true);
  }
}
