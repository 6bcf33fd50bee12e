package io.qpatch.link;

import io.qpatch.proc.MemfdFile;
import io.qpatch.proc.Mapping;
import java.util.List;

/**
 * The target-side operations {@link ObjectLoader#load} lays an object in with: a memfd
 * made in the target and filled from our side, mapped segment by segment at fixed
 * addresses. The patch engine's implementation makes each one a held-thread remote system
 * call and a numbered checkpoint of its kill tests.
 */
public interface ObjectMemory {
  /** A memfd of the target: its descriptor there, and the file opened on our side. */
  record Memfd(int fd, MemfdFile file) {}

  int pid();

  List<Mapping> maps();

  /** A new memfd of {@code length} bytes named {@code name}; close both ends when done. */
  Memfd memfd(String name, long length);

  /**
   * Maps {@code length} bytes of {@code fd} from {@code offset} at exactly {@code address},
   * never over a mapping; returns the address, or 0 when the range was taken.
   */
  long map(int fd, long offset, long length, int prot, int flags, long address, String what);

  /** Closes the target's {@code fd}: its mappings keep the memfd alive. */
  void close(int fd, String what);

  void unmap(long address, long length, String what);

  /** Writes {@code bytes} at {@code offset} of a memfd from our side. */
  void fill(MemfdFile file, long offset, byte[] bytes, String what);
}
