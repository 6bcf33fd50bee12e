package io.qpatch.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** The Maven project version, from the resource Maven filters at build time. */
final class Version {
  private static final String RESOURCE = "version.properties";

  private Version() {}

  /** {@code qpatch 0.1.0-SNAPSHOT}. */
  static String line(String tool) {
    return tool + " " + number();
  }

  static String number() {
    try (InputStream in = Version.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is missing from the jar: the build is broken");
      }
      Properties properties = new Properties();
      properties.load(in);
      return properties.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + RESOURCE + " from the jar", e);
    }
  }
}
