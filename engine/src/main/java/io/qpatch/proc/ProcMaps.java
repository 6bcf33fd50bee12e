package io.qpatch.proc;

import io.qpatch.error.BadInputException;
import io.qpatch.error.ProcessExitedException;
import io.qpatch.error.SyscallException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads and parses {@code /proc/PID/maps}. */
public final class ProcMaps {
  /**
   * Column where the path starts when the fields before it are short: {@code show_map_vma()}
   * calls {@code seq_setwidth(m, 25 + sizeof(void *) * 6 - 1)} and {@code seq_pad(m, ' ')}
   * (fs/proc/task_mmu.c), so the fields are padded to 72 columns and one space follows.
   * Padding to a fixed column, not splitting on spaces, keeps paths with spaces intact.
   */
  private static final int PATH_PAD_WIDTH = 25 + 8 * 6 - 1;

  private static final int EACCES = 13;

  private ProcMaps() {}

  /** The current mappings of process {@code pid}, in address order. */
  public static List<Mapping> read(int pid) {
    if (pid <= 0) throw new BadInputException("no process with pid " + pid);
    Path file = Path.of("/proc", Integer.toString(pid), "maps");
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new BadInputException("no process with pid " + pid);
    } catch (AccessDeniedException e) {
      throw new SyscallException("open(" + file + ")", pid, EACCES,
          "cannot read " + file + ": permission denied; run qpatch as root or as the owner of "
              + pid);
    } catch (IOException e) {
      // The kernel answers ESRCH on read once the task is being torn down.
      throw new ProcessExitedException(pid, -1,
          "process " + pid + " exited while reading " + file + " (" + e.getMessage() + ")");
    }
    return parse(text, file.toString());
  }

  /** Parses the whole text of a maps file; {@code source} names it in error messages. */
  public static List<Mapping> parse(String text, String source) {
    List<Mapping> mappings = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (!line.isEmpty()) mappings.add(parseLine(line, source));
    }
    return List.copyOf(mappings);
  }

  /** Parses one line, e.g. {@code 7f..-7f.. r-xp 00026000 fe:00 339380   /usr/lib/libc.so.6}. */
  public static Mapping parseLine(String line, String source) {
    try {
      Fields f = new Fields(line);
      String range = f.next();
      int dash = range.indexOf('-');
      long start = Long.parseUnsignedLong(range.substring(0, dash), 16);
      long end = Long.parseUnsignedLong(range.substring(dash + 1), 16);
      String perms = f.next();
      long offset = Long.parseUnsignedLong(f.next(), 16);
      String dev = f.next();
      long inode = Long.parseUnsignedLong(f.next());
      int pathStart = Math.max(f.pos, PATH_PAD_WIDTH) + 1;
      String path = pathStart < line.length() ? line.substring(pathStart) : "";
      return new Mapping(start, end, perms, offset, dev, inode, path);
    } catch (RuntimeException e) {
      throw new BadInputException("unexpected line in " + source + ": '" + line + "'", e);
    }
  }

  /** Splits the fixed leading fields, each followed by exactly one space. */
  private static final class Fields {
    private final String line;
    private int pos;

    Fields(String line) {
      this.line = line;
    }

    String next() {
      if (pos > 0) pos++;
      int start = pos;
      int space = line.indexOf(' ', start);
      pos = space < 0 ? line.length() : space;
      if (pos == start) throw new IllegalArgumentException("missing field");
      return line.substring(start, pos);
    }
  }
}
