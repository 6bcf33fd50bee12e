package io.qpatch.fleet;

import io.qpatch.error.BadInputException;
import io.qpatch.proc.Mapping;
import io.qpatch.proc.ProcMaps;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Which processes of this host a command acts on: given pids, every process running an
 * executable (matched by file identity, device and inode, not by name: a copy or another
 * build elsewhere is not selected, a symlink or hard link to it is), and every process that
 * maps a library (by file name, {@code libssl.so.3}, or by path, again by identity). The
 * union, each pid once, never this JVM.
 */
public record ProcessSelection(List<Integer> pids, List<Path> executables, List<String> libraries) {
  public ProcessSelection {
    pids = List.copyOf(pids);
    executables = List.copyOf(executables);
    libraries = List.copyOf(libraries);
  }

  public static ProcessSelection pids(Integer... pids) {
    return new ProcessSelection(List.of(pids), List.of(), List.of());
  }

  public static ProcessSelection exe(String path) {
    return new ProcessSelection(List.of(), List.of(Path.of(path)), List.of());
  }

  public static ProcessSelection lib(String nameOrPath) {
    return new ProcessSelection(List.of(), List.of(), List.of(nameOrPath));
  }

  /** Both selections' processes. */
  public ProcessSelection and(ProcessSelection other) {
    List<Integer> p = new ArrayList<>(pids);
    p.addAll(other.pids);
    List<Path> e = new ArrayList<>(executables);
    e.addAll(other.executables);
    List<String> l = new ArrayList<>(libraries);
    l.addAll(other.libraries);
    return new ProcessSelection(p, e, l);
  }

  /** One process given by pid, nothing else: the seed's {@code -p PID}. */
  public boolean isOnePid() {
    return pids.size() == 1 && executables.isEmpty() && libraries.isEmpty();
  }

  /**
   * The pids selected now, in order. Given pids are kept even when no such process exists
   * (the command reports each); an executable or library path that does not exist is bad
   * input.
   */
  public List<Integer> resolve() {
    TreeSet<Integer> out = new TreeSet<>(pids);
    if (executables.isEmpty() && libraries.isEmpty()) return List.copyOf(out);
    List<FileId> exes = new ArrayList<>();
    for (Path e : executables) exes.add(FileId.of(e).orElseThrow(() -> missing(e, "executable")));
    List<FileId> libPaths = new ArrayList<>();
    List<String> libNames = new ArrayList<>();
    for (String l : libraries) {
      if (l.contains("/")) libPaths.add(FileId.of(Path.of(l)).orElseThrow(() -> missing(Path.of(l), "library")));
      else libNames.add(l);
    }
    for (int pid : allPids()) {
      if (!exes.isEmpty() && FileId.of(Path.of("/proc", Integer.toString(pid), "exe")).filter(exes::contains).isPresent()) {
        out.add(pid);
      } else if ((!libPaths.isEmpty() || !libNames.isEmpty()) && mapsLibrary(pid, libPaths, libNames)) {
        out.add(pid);
      }
    }
    return List.copyOf(out);
  }

  private static BadInputException missing(Path p, String what) {
    return new BadInputException("no such " + what + ": " + p + " (give the path of the file the processes run or map)");
  }

  private static boolean mapsLibrary(int pid, List<FileId> paths, List<String> names) {
    List<Mapping> maps;
    try {
      maps = ProcMaps.read(pid);
    } catch (RuntimeException e) {
      return false; // gone, or not ours to read
    }
    for (Mapping m : maps) {
      if (!m.isFile()) continue;
      if (names.contains(m.fileName())) return true;
      if (!paths.isEmpty() && paths.contains(FileId.of(m))) return true;
    }
    return false;
  }

  /** Every process of this host but this JVM. */
  static List<Integer> allPids() {
    long self = ProcessHandle.current().pid();
    return ProcessHandle.allProcesses().mapToLong(ProcessHandle::pid).filter(p -> p != self)
        .mapToObj(p -> (int) p).toList();
  }

  /** A file's identity: its device and inode. */
  record FileId(long dev, long ino) {
    static Optional<FileId> of(Path p) {
      try {
        return Optional.of(new FileId(((Number) Files.getAttribute(p, "unix:dev")).longValue(),
            ((Number) Files.getAttribute(p, "unix:ino")).longValue()));
      } catch (NoSuchFileException | SecurityException e) {
        return Optional.empty();
      } catch (IOException e) {
        return Optional.empty(); // /proc/PID/exe of a process gone or not ours to read
      }
    }

    /** From a maps line: "fd:01" is major:minor in hex, the kernel's new_encode_dev layout as stat(2) gives it. */
    static FileId of(Mapping m) {
      String[] mm = m.dev().split(":");
      long major = Long.parseLong(mm[0], 16);
      long minor = Long.parseLong(mm[1], 16);
      long dev = (minor & 0xff) | (major & 0xfff) << 8 | (minor & ~0xffL) << 12 | (major & ~0xfffL) << 32;
      return new FileId(dev, m.inode());
    }
  }
}
