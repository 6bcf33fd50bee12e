package io.qpatch.proc;

import io.qpatch.error.ProcessExitedException;
import io.qpatch.error.SyscallException;
import io.qpatch.sys.Errno;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A process's memory through {@code /proc/PID/mem}: one pread/pwrite per range, and
 * writes work on read-only text (the kernel writes with FOLL_FORCE, proc(5)), so no
 * page ever needs to be made writable or executable. Reads work while the process
 * runs; writes to code should be made with its threads stopped.
 */
final class Memory implements AutoCloseable {
  private final int pid;
  private final FileChannel channel;

  Memory(int pid) {
    this.pid = pid;
    try {
      channel =
          FileChannel.open(
              Path.of("/proc", Integer.toString(pid), "mem"),
              StandardOpenOption.READ,
              StandardOpenOption.WRITE);
    } catch (NoSuchFileException e) {
      throw new ProcessExitedException(pid, -1, "no process with pid " + pid);
    } catch (IOException e) {
      throw new SyscallException(
          "open /proc/" + pid + "/mem", pid, Errno.EACCES,
          "cannot open memory of pid " + pid + ": " + e.getMessage() + " (run as root)");
    }
  }

  /** Reads exactly {@code length} bytes at {@code address}. */
  byte[] read(long address, int length) {
    ByteBuffer buf = ByteBuffer.allocate(length);
    try {
      while (buf.hasRemaining()) {
        int n = channel.read(buf, address + buf.position());
        if (n <= 0) throw unmapped("read", address, length, null);
      }
    } catch (IOException e) {
      throw unmapped("read", address, length, e);
    }
    return buf.array();
  }

  /** Writes all of {@code data} at {@code address}. */
  void write(long address, byte[] data) {
    ByteBuffer buf = ByteBuffer.wrap(data);
    try {
      while (buf.hasRemaining()) {
        int n = channel.write(buf, address + buf.position());
        if (n <= 0) throw unmapped("write", address, data.length, null);
      }
    } catch (IOException e) {
      throw unmapped("write", address, data.length, e);
    }
  }

  private SyscallException unmapped(String op, long address, int length, IOException cause) {
    String why = cause == null || cause.getMessage() == null ? "not mapped" : cause.getMessage();
    return new SyscallException(
        op + " /proc/" + pid + "/mem", pid, Errno.EIO,
        "cannot " + op + " " + length + " bytes at 0x" + Long.toHexString(address)
            + " in pid " + pid + ": " + why);
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      // closing a /proc file cannot lose data
    }
  }
}
