package io.qpatch;

import io.qpatch.proc.Target;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Entry points for scripts and the shell: {@code import static io.qpatch.Qpatch.*;} then
 * {@code var p = attach(1234);}. Every process attached here is detached when the JVM
 * exits, however it exits (end of script, exception, Ctrl-C), so a script can never
 * leave a process stopped or traced.
 */
public final class Qpatch {
  private static final Set<TargetProcess> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(Thread.ofPlatform().name("qpatch-detach").unstarted(Qpatch::detachAll));
  }

  private Qpatch() {}

  /**
   * Attaches to every thread of process {@code pid}; it keeps running. Fails with a one-line
   * message when there is no such process or ptrace is not permitted.
   */
  public static TargetProcess attach(int pid) {
    return remember(new TargetProcess(Target.attach(pid)));
  }

  /**
   * Starts a program (argv[0] searched in PATH) held at its first instruction, with this
   * process's stdin, stdout and stderr; {@code resume()} lets it run.
   */
  public static TargetProcess launch(String... argv) {
    return remember(new TargetProcess(Target.launch(List.of(argv))));
  }

  /**
   * Every process of a selection, patched together: {@code processes(exe("/usr/sbin/nginx"))
   * .apply("fix.o")}. Selections: {@code pids(1, 2)}, {@code exe(PATH)}, {@code lib(NAME)},
   * combined with {@code and}.
   */
  public static Processes processes(io.qpatch.fleet.ProcessSelection selection) {
    return new Processes(selection);
  }

  /** Every process of this host that carries a qpatch patch, with its patches. */
  public static List<io.qpatch.fleet.Fleet.Carrier> patchedProcesses() {
    return io.qpatch.fleet.Fleet.carriers();
  }

  /** The processes with these pids. */
  public static io.qpatch.fleet.ProcessSelection pids(Integer... pids) {
    return io.qpatch.fleet.ProcessSelection.pids(pids);
  }

  /** Every process running the executable at {@code path} (the same file, however reached). */
  public static io.qpatch.fleet.ProcessSelection exe(String path) {
    return io.qpatch.fleet.ProcessSelection.exe(path);
  }

  /** Every process that maps the library {@code nameOrPath} ("libssl.so.3", or a path). */
  public static io.qpatch.fleet.ProcessSelection lib(String nameOrPath) {
    return io.qpatch.fleet.ProcessSelection.lib(nameOrPath);
  }

  /** The calls most worth knowing, one per line: the shell prints it at start. */
  public static String help() {
    return """
        qpatch shell: the engine, scripted in Java. The most useful calls:
          var p = attach(PID)                  attach to a running process (it keeps running)
          p.threads()  p.modules()  p.maps()   threads, modules, memory map
          p.sym("sleep")  p.where(addr)        name -> address, address -> module!symbol+off
          p.read(addr, n)  p.listing("f", 8)   memory; disassembly of a function
          p.call("getpid")                     call a function inside the process
          p.apply("cpatch.o")  p.rollback(..)  load+activate a patch, undo it (p.load, p.activate, p.patches())
          var h = p.onCall("malloc", c -> ...) breakpoint: c.arg(0), c.readString(a), c.returnValue(v),
                                               c.onReturn(r -> r.value()); h.count(), h.remove()
          p.run(10)                            run the breakpoints' callbacks for 10 s
          p.trace("main\\\\..*").returns().forSeconds(5).summary()   trace calls, then the table
          p.detach()                           take breakpoints out, let the process go as it was
          processes(exe("/usr/sbin/nginx")).apply("fix.o")   every process of a program (pids(..), lib(..))
        Also: launch("./prog", "arg") (held at its first instruction: p.resume()), p.stop(),
        p.write(addr, bytes), exit(n), help(). Javadoc: every public method of io.qpatch.*.
        """;
  }

  /** Ends a script with {@code code} (the runner turns this into the exit status). */
  public static void exit(int code) {
    throw new ScriptExit(code);
  }

  static void forget(TargetProcess p) {
    LIVE.remove(p);
  }

  private static TargetProcess remember(TargetProcess p) {
    LIVE.add(p);
    return p;
  }

  private static void detachAll() {
    for (TargetProcess p : List.copyOf(LIVE)) {
      try {
        p.detach();
      } catch (RuntimeException e) {
        io.qpatch.error.Warnings.warn("detaching from pid " + p.pid() + " failed: " + e.getMessage());
      }
    }
  }
}
