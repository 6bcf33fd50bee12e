package io.qpatch.proc;

import io.qpatch.error.BadInputException;
import io.qpatch.sys.Libc;
import io.qpatch.sys.Ptrace;
import io.qpatch.sys.Signals;
import io.qpatch.sys.Spawn;
import io.qpatch.sys.WaitFlags;
import io.qpatch.sys.WaitStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Starts a program traced from its first instruction. A shell stops itself, we seize
 * it, wake it, and it execs the program: the PTRACE_EVENT_EXEC stop comes after the new
 * image is loaded and before it runs a single instruction. No code of ours runs in a
 * forked JVM, and the JDK's process reaper never sees the child.
 */
final class Launch {
  /** "$0" is the program, "$@" its arguments (sh -c assigns them from the trailing words). */
  private static final String STOP_THEN_EXEC = "kill -STOP $$ && exec \"$0\" \"$@\"";

  private Launch() {}

  /** Runs on the tracer thread; returns the process's threads, held at the exec stop. */
  static ThreadSet start(List<String> argv, Map<String, String> env) {
    String program = resolve(argv.getFirst());
    List<String> sh = new ArrayList<>(List.of("/bin/sh", "-c", STOP_THEN_EXEC, program));
    sh.addAll(argv.subList(1, argv.size()));
    int pid = Spawn.spawn(sh, env);
    int[] status = new int[1];
    Libc.waitpid(pid, status, WaitFlags.WUNTRACED);
    WaitStatus st = new WaitStatus(status[0]);
    if (!st.stopped()) throw new BadInputException("cannot start " + program + ": shell " + st);
    int options = ThreadSet.OPTIONS | Ptrace.O_EXITKILL;
    Ptrace.seize(pid, options);
    Libc.kill(pid, Signals.SIGCONT);
    while (true) {
      Libc.waitpid(pid, status, WaitFlags.__WALL);
      st = new WaitStatus(status[0]);
      if (st.terminated()) {
        throw new BadInputException("cannot start " + program + ": it " + st + " before exec");
      }
      if (st.event() == Ptrace.EVENT_EXEC) break;
      int sig = st.event() == 0 && st.stopSignal() != Signals.SIGCONT ? st.stopSignal() : 0;
      Ptrace.cont(pid, sig);
    }
    ThreadSet threads = new ThreadSet(pid, options);
    threads.adoptStopped(pid, st);
    return threads;
  }

  /** The program's path as execvp would find it, or a clear error. */
  static String resolve(String name) {
    if (name.contains("/")) return checkExecutable(Path.of(name), name);
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
    for (String dir : path.split(":")) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, name);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) return p.toString();
    }
    throw new BadInputException("cannot run '" + name + "': not found in PATH");
  }

  private static String checkExecutable(Path p, String name) {
    if (!Files.exists(p)) throw new BadInputException("cannot run '" + name + "': no such file");
    if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
      throw new BadInputException("cannot run '" + name + "': not an executable file");
    }
    return p.toString();
  }
}
