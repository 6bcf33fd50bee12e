package io.qpatch.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.testing.Fixtures;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Every Linux constant the engine writes down (system call numbers, errno values, mmap
 * and memfd flags, the page size, signals, wait and ptrace constants, socket constants),
 * checked against this machine's C headers: a C program made from the constants' names
 * prints what the headers say, the same way CapstoneLayoutTest checks Capstone's structs.
 * A constant added to one of these classes is checked too, by its name.
 */
class LinuxFactsTest {
  /** Each class, and the C expression for a field's name. */
  private static final Map<Class<?>, Function<String, String>> CLASSES = new LinkedHashMap<>();

  static {
    CLASSES.put(Syscall.class, n -> "__NR_" + n.toLowerCase(java.util.Locale.ROOT));
    CLASSES.put(Errno.class, n -> n);
    CLASSES.put(Mman.class, n -> n.equals("PAGE") ? "sysconf(_SC_PAGESIZE)" : n);
    CLASSES.put(Signals.class, n -> n);
    CLASSES.put(WaitFlags.class, n -> n);
    CLASSES.put(Ptrace.class, n -> n.startsWith("FPREGS_") ? null : "PTRACE_" + n);
    CLASSES.put(UnixDatagram.class, n -> n.equals("SOCKADDR_UN_BYTES") ? "sizeof(struct sockaddr_un)"
        : n.equals("SUN_PATH_MAX") ? "sizeof(((struct sockaddr_un *) 0)->sun_path)" : n);
  }

  private static final String HEADERS = """
      #define _GNU_SOURCE
      #include <errno.h>
      #include <signal.h>
      #include <stddef.h>
      #include <stdio.h>
      #include <sys/mman.h>
      #include <sys/ptrace.h>
      #include <sys/socket.h>
      #include <sys/syscall.h>
      #include <sys/un.h>
      #include <sys/user.h>
      #include <sys/wait.h>
      #include <unistd.h>
      #include <linux/wait.h>
      """;

  @Test
  void every_constant_is_what_the_system_headers_say() throws Exception {
    Map<String, Long> ours = new LinkedHashMap<>();
    StringBuilder c = new StringBuilder(HEADERS).append("int main(void) {\n");
    for (Map.Entry<Class<?>, Function<String, String>> e : CLASSES.entrySet()) {
      for (Field f : e.getKey().getDeclaredFields()) {
        if (!isConstant(f)) continue;
        String expr = e.getValue().apply(f.getName());
        if (expr == null) continue;
        f.setAccessible(true);
        String key = e.getKey().getSimpleName() + "." + f.getName();
        ours.put(key, ((Number) f.get(null)).longValue());
        c.append("  printf(\"%s %lld\\n\", \"").append(key).append("\", (long long) (").append(expr).append("));\n");
      }
    }
    c.append("  printf(\"user_fpregs_struct %zu xmm_space %zu\\n\", sizeof(struct user_fpregs_struct),"
        + " offsetof(struct user_fpregs_struct, xmm_space));\n  return 0;\n}\n");
    Path prog = Fixtures.c("linux-facts", c.toString());
    Map<String, Long> headers = new LinkedHashMap<>();
    List<String> lines = new ArrayList<>(Fixtures.run(List.of(prog.toString())).lines().toList());
    String fp = lines.removeLast();
    for (String l : lines) {
      String[] kv = l.split(" ");
      headers.put(kv[0], Long.parseLong(kv[1]));
    }
    assertTrue(ours.size() > 80, "constants found: " + ours.size());
    assertEquals(headers, ours);
    assertEquals("user_fpregs_struct " + Ptrace.FPREGS_BYTES + " xmm_space " + Ptrace.FPREGS_XMM0, fp);
  }

  private static boolean isConstant(Field f) {
    int m = f.getModifiers();
    return Modifier.isStatic(m) && Modifier.isFinal(m) && (f.getType() == int.class || f.getType() == long.class)
        && f.getName().equals(f.getName().toUpperCase(java.util.Locale.ROOT));
  }
}
