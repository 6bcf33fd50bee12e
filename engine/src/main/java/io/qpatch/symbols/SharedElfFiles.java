package io.qpatch.symbols;

import io.qpatch.elf.ElfFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The ELF files of this JVM's modules, opened once per file: every process of a fleet
 * maps the same libc, loader and executable, and parsing their symbol tables again for
 * each process was most of a fleet command's time (a 100-process apply). A file is known
 * by its identity and version (device, inode, size, modification time), so a file
 * replaced on disk is opened anew. Files no module uses stay open, the
 * {@link #MAX_IDLE} most recently used of them, for the next process.
 */
final class SharedElfFiles {
  static final int MAX_IDLE = 64;

  private record Key(Object dev, Object ino, long size, FileTime modified, String name) {}

  private static final class Entry {
    final Key key;
    final ElfFile elf;
    int users;

    Entry(Key key, ElfFile elf) {
      this.key = key;
      this.elf = elf;
    }
  }

  private static final Map<Key, Entry> BY_KEY = new LinkedHashMap<>(16, 0.75f, true);
  private static final Map<ElfFile, Entry> BY_FILE = new IdentityHashMap<>();

  private SharedElfFiles() {}

  /**
   * The file at {@code path} (shown as {@code name}), opened by {@code open} unless an
   * identical one is open already. Give it back with {@link #release}.
   */
  static ElfFile acquire(Path path, String name, Supplier<ElfFile> open) {
    Key key = keyOf(path, name);
    if (key == null) return open.get(); // no identity to share by: this module's alone
    synchronized (SharedElfFiles.class) {
      Entry e = BY_KEY.get(key);
      if (e != null) {
        e.users++;
        return e.elf;
      }
    }
    ElfFile elf = open.get(); // outside the lock: parallel fleet threads open different files at once
    synchronized (SharedElfFiles.class) {
      Entry e = BY_KEY.get(key);
      if (e != null) { // another thread opened it meanwhile
        elf.close();
        e.users++;
        return e.elf;
      }
      e = new Entry(key, elf);
      e.users = 1;
      BY_KEY.put(key, e);
      BY_FILE.put(elf, e);
      return elf;
    }
  }

  /** A module is done with {@code elf}; closes it if it was never shared. */
  static void release(ElfFile elf) {
    synchronized (SharedElfFiles.class) {
      Entry e = BY_FILE.get(elf);
      if (e != null) {
        e.users--;
        trimIdle();
        return;
      }
    }
    elf.close();
  }

  /** Closes the least recently used files no module uses, beyond {@link #MAX_IDLE}. */
  private static void trimIdle() {
    long idle = BY_KEY.values().stream().filter(e -> e.users == 0).count();
    for (Iterator<Entry> it = BY_KEY.values().iterator(); it.hasNext() && idle > MAX_IDLE; ) {
      Entry e = it.next();
      if (e.users > 0) continue;
      it.remove();
      BY_FILE.remove(e.elf);
      e.elf.close();
      idle--;
    }
  }

  private static Key keyOf(Path path, String name) {
    try {
      Map<String, Object> a = Files.readAttributes(path, "unix:dev,ino,size,lastModifiedTime");
      return new Key(a.get("dev"), a.get("ino"), ((Number) a.get("size")).longValue(),
          (FileTime) a.get("lastModifiedTime"), name);
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return null;
    }
  }
}
