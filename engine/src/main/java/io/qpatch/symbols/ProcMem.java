package io.qpatch.symbols;

import io.qpatch.error.BadInputException;
import io.qpatch.error.ProcessExitedException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** {@link MemoryReader} over {@code /proc/PID/mem}: positioned reads, file opened per call. */
final class ProcMem implements MemoryReader {
  private final int pid;
  private final Path file;

  ProcMem(int pid) {
    this.pid = pid;
    this.file = Path.of("/proc", Integer.toString(pid), "mem");
  }

  @Override
  public byte[] read(long address, int length) {
    ByteBuffer buffer = ByteBuffer.allocate(length);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      // The file position is the address; user-space addresses are below 2^47, so positive.
      while (buffer.hasRemaining()) {
        int n = channel.read(buffer, address + buffer.position());
        if (n <= 0) throw new IOException("end of readable memory");
      }
      return buffer.array();
    } catch (NoSuchFileException e) {
      throw new ProcessExitedException(pid, -1);
    } catch (AccessDeniedException e) {
      throw new BadInputException("cannot read the memory of process " + pid
          + ": permission denied; run qpatch as root (or with CAP_SYS_PTRACE)");
    } catch (IOException e) {
      throw new BadInputException(String.format(
          "cannot read %d bytes at 0x%x in process %d: %s", length, address, pid,
          e.getMessage()));
    }
  }
}
