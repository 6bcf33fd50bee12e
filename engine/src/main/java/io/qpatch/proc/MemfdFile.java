package io.qpatch.proc;

import io.qpatch.error.SyscallException;
import io.qpatch.sys.Errno;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * A memfd of the target, opened from our side through {@code /proc/PID/fd/N}: opening that
 * link opens the file itself (proc(5)), so its size is set and its pages written here, with
 * no system call in the target and no mapping of it ever writable and executable. Mappings
 * of the target (MAP_SHARED) see every byte written at once: they map the same pages.
 *
 * <p>Opened while the target still has the descriptor (between its memfd_create and its
 * close); afterwards the file lives on through our descriptor and the target's mappings.
 */
public final class MemfdFile implements AutoCloseable {
  private final int pid;
  private final String what;
  private final RandomAccessFile file;
  private final FileChannel channel;

  private MemfdFile(int pid, String what, RandomAccessFile file) {
    this.pid = pid;
    this.what = what;
    this.file = file;
    this.channel = file.getChannel();
  }

  /** Opens descriptor {@code fd} of process {@code pid} read-write. */
  public static MemfdFile open(int pid, int fd, String what) {
    Path link = Path.of("/proc", "" + pid, "fd", "" + fd);
    try {
      return new MemfdFile(pid, what, new RandomAccessFile(link.toFile(), "rw"));
    } catch (IOException e) {
      throw new SyscallException("open " + link, pid, Errno.EACCES, "cannot open " + what + " of pid "
          + pid + " through " + link + ": " + e.getMessage() + " (run as root)");
    }
  }

  /** ftruncate(2) on our descriptor: the new bytes read as zero. */
  public void setLength(long length) {
    try {
      file.setLength(length);
    } catch (IOException e) {
      throw failed("size", e);
    }
  }

  /** Writes all of {@code bytes} at {@code offset} of the file (one pwrite, as a rule). */
  public void write(long offset, byte[] bytes) {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    try {
      while (buf.hasRemaining()) channel.write(buf, offset + buf.position());
    } catch (IOException e) {
      throw failed("write", e);
    }
  }

  private SyscallException failed(String op, IOException e) {
    return new SyscallException(op + " " + what, pid, Errno.EIO, "cannot " + op + " " + what
        + " of pid " + pid + ": " + e.getMessage());
  }

  @Override
  public void close() {
    try {
      file.close();
    } catch (IOException e) {
      // nothing buffered: closing cannot lose a write
    }
  }
}
