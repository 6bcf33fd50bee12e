package io.qpatch;

import io.qpatch.proc.Target;
import io.qpatch.sys.Registers;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A thread of the target held at a scripted breakpoint, as a callback sees it: its id, its
 * registers, and the process's memory. The callback runs on the tracer thread while the
 * thread waits; the thread goes on when the callback returns, with the registers as the
 * callback left them.
 */
public abstract sealed class StoppedThread permits Call, Return {
  /** Longest C string {@link #readString} reads, in bytes. */
  public static final int MAX_STRING = 4096;

  private static final int PAGE = (int) io.qpatch.sys.Mman.PAGE;

  final Target target;
  final int tid;
  Registers regs;

  StoppedThread(Target target, int tid, Registers regs) {
    this.target = target;
    this.tid = tid;
    this.regs = regs;
  }

  /** The thread's id (as /proc/PID/task lists it). */
  public int tid() {
    return tid;
  }

  /** The thread's registers; changes made in the callback are written back to the thread. */
  public Registers registers() {
    return regs;
  }

  /** {@code length} bytes of the process's memory at {@code address}. */
  public byte[] readBytes(long address, int length) {
    return target.read(address, length);
  }

  /** The little-endian 64-bit value at {@code address}. */
  public long readLong(long address) {
    return target.readLong(address);
  }

  /** The little-endian 32-bit value at {@code address}. */
  public int readInt(long address) {
    return ByteBuffer.wrap(readBytes(address, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt();
  }

  /**
   * The NUL-terminated string at {@code address} (UTF-8, at most {@link #MAX_STRING}
   * bytes); read a page at a time, so a string that ends just before unmapped memory is
   * read whole.
   */
  public String readString(long address) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long at = address;
    while (out.size() < MAX_STRING) {
      int chunk = (int) Math.min(PAGE - (at & (PAGE - 1)), MAX_STRING - out.size());
      byte[] b = readBytes(at, chunk);
      for (byte x : b) {
        if (x == 0) return out.toString(StandardCharsets.UTF_8);
        out.write(x);
      }
      at += chunk;
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
