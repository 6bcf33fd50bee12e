package io.qpatch.trace;

import io.qpatch.error.RefusedException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Uprobe events defined through tracefs (Documentation/trace/uprobetracer.rst): each a
 * probe at a file offset with fetch arguments the kernel reads at the hit, such as {@code
 * goid=+160(%r14):s64} (the word at R14 + 160, read while the thread is in the trap). The
 * event's id then opens it as a perf tracepoint, whose raw samples carry the fetched
 * values at the offsets its {@code format} file gives. This is how perf-probe records
 * memory at a uprobe without BPF.
 *
 * <p>Events live in a group of their own, {@code qpatch_JVMPID_N}; a group left behind by
 * a gotrace that was killed (its JVM gone) is removed by the next one.
 */
final class UprobeEvents implements AutoCloseable {
  static final Path TRACEFS = Path.of("/sys/kernel/tracing");
  private static final Path DEFINITIONS = TRACEFS.resolve("uprobe_events");
  private static final Pattern OUR_GROUP = Pattern.compile("^[pr]:(qpatch_(\\d+)_\\d+)/(\\S+) ");
  private static final Pattern FIELD = Pattern.compile("field:[^;]*?(\\w+)(\\[\\d*\\])?;\\s*offset:(\\d+);\\s*size:(\\d+);");
  private static final AtomicInteger GROUPS = new AtomicInteger();

  private final String group = "qpatch_" + ProcessHandle.current().pid() + "_" + GROUPS.incrementAndGet();
  private final List<String> names = new ArrayList<>();

  /** This set's tracefs group. */
  String group() {
    return group;
  }

  /** One defined event: its perf id and where each fetch argument lies in a raw sample. */
  record Event(String name, int id, Map<String, Integer> offsets) {}

  /**
   * Why uprobe events cannot be defined here, or null: tracefs mounted (mounting it when
   * it is not and we may), with uprobe_events.
   */
  static String unavailableReason() {
    if (!Files.exists(DEFINITIONS)) mountTracefs();
    if (!Files.isWritable(DEFINITIONS)) {
      return "uprobe events need tracefs at " + TRACEFS + " (mount -t tracefs nodev " + TRACEFS
          + ") and root";
    }
    return null;
  }

  private static void mountTracefs() {
    try {
      Process p = new ProcessBuilder("mount", "-t", "tracefs", "nodev", TRACEFS.toString())
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      p.waitFor();
    } catch (IOException e) {
      // no mount command: reported by the caller as tracefs missing
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Defines {@code p:GROUP/NAME PATH:0xOFFSET ARGS}; returns its id and argument offsets.
   *
   * @param fetchArgs "name=fetcharg:type" each, in order
   */
  Event define(String name, String path, long fileOffset, List<String> fetchArgs) {
    if (path.chars().anyMatch(Character::isWhitespace)) {
      throw new RefusedException("uprobe events cannot name a path with white space: " + path);
    }
    StringBuilder line = new StringBuilder("p:").append(group).append('/').append(name).append(' ')
        .append(path).append(":0x").append(Long.toHexString(fileOffset));
    for (String a : fetchArgs) line.append(' ').append(a);
    write(line.append('\n').toString(), "define the uprobe event " + name + " at " + path);
    names.add(name);
    Path dir = TRACEFS.resolve("events").resolve(group).resolve(name);
    try {
      int id = Integer.parseInt(Files.readString(dir.resolve("id")).trim());
      return new Event(name, id, offsets(Files.readString(dir.resolve("format"))));
    } catch (IOException | NumberFormatException e) {
      throw new RefusedException("cannot read the uprobe event " + dir + ": " + e.getMessage());
    }
  }

  /** Field name to offset in the raw record, from a tracefs {@code format} file. */
  static Map<String, Integer> offsets(String format) {
    Map<String, Integer> out = new LinkedHashMap<>();
    Matcher m = FIELD.matcher(format);
    while (m.find()) out.put(m.group(1), Integer.parseInt(m.group(3)));
    return out;
  }

  /** Removes every event of this group (their perf events must be closed first). */
  @Override
  public void close() {
    for (String n : names) {
      try {
        write("-:" + group + "/" + n + "\n", "remove");
      } catch (RefusedException e) {
        // left defined (busy or gone): the next gotrace removes a group whose JVM is gone
      }
    }
    names.clear();
  }

  /** Removes the groups of gotraces that were killed before they could (their JVM is gone). */
  static void removeAbandoned() {
    List<String> lines;
    try {
      lines = Files.readAllLines(DEFINITIONS);
    } catch (IOException e) {
      return;
    }
    for (String l : lines) {
      Matcher m = OUR_GROUP.matcher(l);
      if (!m.find() || ProcessHandle.of(Long.parseLong(m.group(2))).isPresent()) continue;
      try {
        write("-:" + m.group(1) + "/" + m.group(3) + "\n", "remove");
      } catch (RefusedException e) {
        // still in use by someone: leave it
      }
    }
  }

  private static void write(String text, String what) {
    try {
      Files.writeString(DEFINITIONS, text, StandardCharsets.US_ASCII, StandardOpenOption.WRITE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new RefusedException("cannot " + what + " (" + DEFINITIONS + ": " + e.getMessage() + ")");
    }
  }
}
