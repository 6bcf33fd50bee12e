package io.qpatch.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

/**
 * A Unix-domain datagram socket ({@code socket(AF_UNIX, SOCK_DGRAM)}, unix(7)): what
 * syslog(3) writes to at {@code /dev/log}. The JDK's channels have Unix-domain stream
 * sockets only. Constants from {@code <sys/socket.h>} and {@code <sys/un.h>}.
 */
public final class UnixDatagram implements AutoCloseable {
  static final int AF_UNIX = 1;
  static final int SOCK_DGRAM = 2;
  static final int SOCK_CLOEXEC = 0x80000;
  /** sizeof(struct sockaddr_un): sa_family_t, then sun_path[108]. */
  static final int SOCKADDR_UN_BYTES = 110;
  static final int SUN_PATH_MAX = 108;

  private static final class Holder {
    static final MethodHandle SOCKET = Libc.link("socket",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Libc.CAPTURE_ERRNO);
    static final MethodHandle BIND = Libc.link("bind",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), Libc.CAPTURE_ERRNO);
    static final MethodHandle SENDTO = Libc.link("sendto",
        FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), Libc.CAPTURE_ERRNO);
    static final MethodHandle RECV = Libc.link("recv",
        FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), Libc.CAPTURE_ERRNO);
    static final MethodHandle CLOSE = Libc.link("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
  }

  private final int fd;

  private UnixDatagram(int fd) {
    this.fd = fd;
  }

  /** An unbound socket, for sending. */
  public static UnixDatagram open() {
    MemorySegment cap = Libc.capture();
    int fd;
    try {
      fd = (int) Holder.SOCKET.invokeExact(cap, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    } catch (Throwable t) {
      throw Libc.linkageBug(t);
    }
    if (fd < 0) throw Libc.fail("socket(AF_UNIX, SOCK_DGRAM)", 0, Libc.errno(cap));
    return new UnixDatagram(fd);
  }

  /** A socket bound at {@code path}, for receiving (tests stand in for /dev/log with one). */
  public static UnixDatagram bound(String path) {
    UnixDatagram s = open();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment cap = Libc.capture();
      int r;
      try {
        r = (int) Holder.BIND.invokeExact(cap, s.fd, address(arena, path), SOCKADDR_UN_BYTES);
      } catch (Throwable t) {
        throw Libc.linkageBug(t);
      }
      if (r < 0) {
        s.close();
        throw Libc.fail("bind(" + path + ")", 0, Libc.errno(cap));
      }
    }
    return s;
  }

  /** Sends {@code message} to the socket bound at {@code path}. */
  public void send(String path, byte[] message) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(Math.max(1, message.length));
      MemorySegment.copy(message, 0, buf, JAVA_BYTE, 0, message.length);
      MemorySegment cap = Libc.capture();
      long r;
      try {
        r = (long) Holder.SENDTO.invokeExact(cap, fd, buf, (long) message.length, 0, address(arena, path), SOCKADDR_UN_BYTES);
      } catch (Throwable t) {
        throw Libc.linkageBug(t);
      }
      if (r < 0) throw Libc.fail("sendto(" + path + ")", 0, Libc.errno(cap));
    }
  }

  /** The next datagram (blocking), at most {@code max} bytes of it. */
  public byte[] receive(int max) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(max);
      MemorySegment cap = Libc.capture();
      long n;
      try {
        n = (long) Holder.RECV.invokeExact(cap, fd, buf, (long) max, 0);
      } catch (Throwable t) {
        throw Libc.linkageBug(t);
      }
      if (n < 0) throw Libc.fail("recv", 0, Libc.errno(cap));
      return buf.asSlice(0, n).toArray(JAVA_BYTE);
    }
  }

  private static MemorySegment address(Arena arena, String path) {
    byte[] p = path.getBytes(StandardCharsets.UTF_8);
    if (p.length >= SUN_PATH_MAX) throw new IllegalArgumentException("socket path too long: " + path);
    MemorySegment a = arena.allocate(SOCKADDR_UN_BYTES);
    a.set(JAVA_SHORT, 0, (short) AF_UNIX);
    MemorySegment.copy(p, 0, a, JAVA_BYTE, 2, p.length);
    return a;
  }

  @Override
  public void close() {
    try {
      int ignored = (int) Holder.CLOSE.invokeExact(fd);
    } catch (Throwable t) {
      throw Libc.linkageBug(t);
    }
  }
}
