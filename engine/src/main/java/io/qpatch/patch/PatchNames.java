package io.qpatch.patch;

import io.qpatch.proc.Mapping;
import java.util.regex.Pattern;

/**
 * How the mappings of a patch are named. Every patch has an id, its file name and the
 * first 12 hex digits of its SHA-256 ({@code cpatch.o-0123456789ab}), and two memfds:
 * {@code qpatch:ID} (the object, made by the linker) and {@code qpatch:ID:record}, whose
 * first pages hold the record (mapped rw- at offset 0) and the rest the stub areas (r-x,
 * at higher offsets). Objects loaded by other parts of qpatch (helpers without the hash
 * suffix) never match {@link #isPatchMapping}.
 */
final class PatchNames {
  static final String RECORD_SUFFIX = ":record";
  private static final Pattern PATCH = Pattern.compile(
      "qpatch:[A-Za-z0-9._+-]+-[0-9a-f]{12}(" + RECORD_SUFFIX + ")?");

  private PatchNames() {}

  /** The id of a patch: file name (characters the linker keeps) and short hash. */
  static String id(String fileName, String hash) {
    String name = fileName.replaceAll("[^A-Za-z0-9._+-]", "_");
    if (name.length() > 160) name = name.substring(0, 160);
    return name + "-" + hash.substring(0, 12);
  }

  static String recordMemfd(String id) {
    return TargetMemory.PREFIX + id + RECORD_SUFFIX;
  }

  static boolean isRecordMapping(Mapping m) {
    return m.isMemfd() && isPatchName(m.memfdName()) && m.memfdName().endsWith(RECORD_SUFFIX);
  }

  static boolean isPatchMapping(Mapping m) {
    return m.isMemfd() && isPatchName(m.memfdName());
  }

  static boolean isPatchName(String memfdName) {
    return PATCH.matcher(memfdName).matches();
  }
}
