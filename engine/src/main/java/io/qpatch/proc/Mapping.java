package io.qpatch.proc;

/**
 * One line of {@code /proc/PID/maps}: a virtual memory area of the target.
 *
 * <p>The format is produced by {@code show_map_vma()} in the kernel's
 * {@code fs/proc/task_mmu.c}: {@code start-end perms offset major:minor inode path}.
 * Addresses are unsigned; {@code [vsyscall]} lies above {@link Long#MAX_VALUE}, so every
 * comparison here is unsigned.
 *
 * @param start first address of the area
 * @param end address one past the area
 * @param perms four characters: {@code r/-}, {@code w/-}, {@code x/-}, {@code p} (private)
 *     or {@code s} (shared)
 * @param offset offset in the mapped file (page offset for anonymous areas)
 * @param dev device of the mapped file as the kernel prints it, {@code "fd:01"}
 * @param inode inode of the mapped file, 0 for anonymous areas
 * @param path the file path, a pseudo name like {@code [stack]}, or "" when anonymous;
 *     the kernel appends {@code " (deleted)"} when the file was unlinked
 */
public record Mapping(
    long start, long end, String perms, long offset, String dev, long inode, String path) {

  private static final String DELETED_SUFFIX = " (deleted)";
  private static final String MEMFD_PREFIX = "/memfd:";

  public Mapping {
    if (perms.length() != 4) {
      throw new IllegalArgumentException("perms must be 4 characters: " + perms);
    }
    if (Long.compareUnsigned(start, end) > 0) {
      throw new IllegalArgumentException("start after end");
    }
  }

  /** Length in bytes. */
  public long size() {
    return end - start;
  }

  /** Whether {@code address} lies in [start, end). */
  public boolean contains(long address) {
    return Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0;
  }

  /** r in the permissions. */
  public boolean isReadable() {
    return perms.charAt(0) == 'r';
  }

  /** w in the permissions. */
  public boolean isWritable() {
    return perms.charAt(1) == 'w';
  }

  /** x in the permissions. */
  public boolean isExecutable() {
    return perms.charAt(2) == 'x';
  }

  /** s (shared) rather than p (private) in the permissions. */
  public boolean isShared() {
    return perms.charAt(3) == 's';
  }

  /** Backed by a file (including a memfd or a deleted file): the path is absolute. */
  public boolean isFile() {
    return path.startsWith("/");
  }

  /** No name at all: plain anonymous memory (heap extensions, .bss tails, thread stacks). */
  public boolean isAnonymous() {
    return path.isEmpty();
  }

  /** A kernel pseudo name such as {@code [stack]}, {@code [heap]}, {@code [vdso]}. */
  public boolean isPseudo() {
    return path.startsWith("[");
  }

  /** The kernel's [vdso] mapping. */
  public boolean isVdso() {
    return path.equals("[vdso]");
  }

  /** The file was unlinked after it was mapped; the kernel printed " (deleted)". */
  public boolean isDeleted() {
    return isFile() && path.endsWith(DELETED_SUFFIX);
  }

  /** Backed by a {@code memfd_create} file; the kernel names those "/memfd:NAME". */
  public boolean isMemfd() {
    return path.startsWith(MEMFD_PREFIX);
  }

  /** The memfd name without the "/memfd:" prefix and " (deleted)" suffix, else "". */
  public String memfdName() {
    return memfdNameOf(path);
  }

  /**
   * The memfd name in a path as /proc shows a memfd file (a mapping's path, a descriptor's
   * link: "/memfd:NAME (deleted)"), else "".
   */
  public static String memfdNameOf(String path) {
    if (!path.startsWith(MEMFD_PREFIX)) return "";
    String p = path.endsWith(DELETED_SUFFIX) ? path.substring(0, path.length() - DELETED_SUFFIX.length()) : path;
    return p.substring(MEMFD_PREFIX.length());
  }

  /** The path without the " (deleted)" suffix. */
  public String filePath() {
    return isDeleted() ? path.substring(0, path.length() - DELETED_SUFFIX.length()) : path;
  }

  /** The last path component ("libc.so.6"), or the whole pseudo name ("[vdso]"). */
  public String fileName() {
    String p = filePath();
    return p.substring(p.lastIndexOf('/') + 1);
  }

  /** The line as /proc/PID/maps shows it. */
  @Override
  public String toString() {
    return String.format(
        "%x-%x %s %08x %s %d %s", start, end, perms, offset, dev, inode, path).stripTrailing();
  }
}
