package io.qpatch.patch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * How a command names a patch: the object's absolute path and, when the file can still be
 * read, the SHA-256 of its content. Content identifies a patch wherever it was loaded from;
 * the path finds it after the file was rebuilt or deleted.
 */
record PatchIdentity(Path path, Optional<String> hash) {

  static PatchIdentity of(Path file) {
    Path path = file.toAbsolutePath().normalize();
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(path));
      return new PatchIdentity(path, Optional.of(HexFormat.of().formatHex(digest)));
    } catch (IOException e) {
      return new PatchIdentity(path, Optional.empty());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  String describe() {
    return path + hash.map(h -> " (sha256 " + h.substring(0, 12) + ")").orElse(" (file not readable)");
  }
}
