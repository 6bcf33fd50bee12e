package io.qpatch.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Map;

/**
 * Process creation with posix_spawnp(3), not {@link ProcessBuilder}: the JDK's reaper
 * thread calls waitpid on ProcessBuilder children and would steal their ptrace stops.
 * The child inherits our stdin, stdout and stderr, gets default signal dispositions and
 * an empty signal mask (the JVM blocks and handles signals a program must not inherit).
 */
public final class Spawn {
  // spawn.h (glibc): posix_spawnattr_t flags.
  private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
  private static final short POSIX_SPAWN_SETSIGMASK = 0x08;

  /** glibc's posix_spawnattr_t is 336 bytes on x86-64; reserve more, it is opaque to us. */
  private static final long SPAWNATTR_SIZE = 512;
  /** sigset_t: 1024 bits (bits/types/__sigset_t.h). */
  private static final long SIGSET_SIZE = 128;

  private Spawn() {}

  private static final class Holder {
    static final MethodHandle SPAWNP =
        Libc.link(
            "posix_spawnp",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle ATTR_INIT =
        Libc.link("posix_spawnattr_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle ATTR_SETFLAGS =
        Libc.link("posix_spawnattr_setflags", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT));
    static final MethodHandle ATTR_SETSIGMASK =
        Libc.link("posix_spawnattr_setsigmask", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle ATTR_SETSIGDEFAULT =
        Libc.link(
            "posix_spawnattr_setsigdefault", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle ATTR_DESTROY =
        Libc.link("posix_spawnattr_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle SIGEMPTYSET =
        Libc.link("sigemptyset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle SIGFILLSET =
        Libc.link("sigfillset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MemorySegment ENVIRON =
        Libc.LINKER.defaultLookup().find("environ").orElseThrow().reinterpret(ADDRESS.byteSize());
  }

  /**
   * Starts {@code argv[0]} (searched in PATH when it has no slash) with {@code argv}.
   * {@code env} null means our own environment. Returns the child's pid.
   */
  public static int spawn(List<String> argv, Map<String, String> env) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment attr = defaultAttributes(arena);
      MemorySegment pid = arena.allocate(JAVA_INT);
      MemorySegment args = stringArray(arena, argv);
      MemorySegment envp = env == null ? Holder.ENVIRON.get(ADDRESS, 0) : environment(arena, env);
      int r =
          (int) Holder.SPAWNP.invokeExact(pid, arena.allocateFrom(argv.get(0)), MemorySegment.NULL,
              attr, args, envp);
      int ignored = (int) Holder.ATTR_DESTROY.invokeExact(attr);
      if (r != 0) throw Libc.fail("posix_spawnp(" + argv.get(0) + ")", 0, r);
      return pid.get(JAVA_INT, 0);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw Libc.linkageBug(t);
    }
  }

  private static MemorySegment defaultAttributes(Arena arena) throws Throwable {
    MemorySegment attr = arena.allocate(SPAWNATTR_SIZE, 8);
    MemorySegment none = arena.allocate(SIGSET_SIZE, 8);
    MemorySegment all = arena.allocate(SIGSET_SIZE, 8);
    int r = (int) Holder.ATTR_INIT.invokeExact(attr);
    r |= (int) Holder.SIGEMPTYSET.invokeExact(none);
    r |= (int) Holder.SIGFILLSET.invokeExact(all);
    r |= (int) Holder.ATTR_SETSIGMASK.invokeExact(attr, none);
    r |= (int) Holder.ATTR_SETSIGDEFAULT.invokeExact(attr, all);
    r |=
        (int)
            Holder.ATTR_SETFLAGS.invokeExact(
                attr, (short) (POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK));
    if (r != 0) throw new AssertionError("posix_spawnattr setup failed: " + r);
    return attr;
  }

  private static MemorySegment stringArray(Arena arena, List<String> strings) {
    MemorySegment array = arena.allocate(MemoryLayout.sequenceLayout(strings.size() + 1, ADDRESS));
    for (int i = 0; i < strings.size(); i++) {
      array.setAtIndex(ADDRESS, i, arena.allocateFrom(strings.get(i)));
    }
    array.setAtIndex(ADDRESS, strings.size(), MemorySegment.NULL);
    return array;
  }

  private static MemorySegment environment(Arena arena, Map<String, String> env) {
    return stringArray(
        arena, env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList());
  }
}
