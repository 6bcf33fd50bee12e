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

  /** Attaches to every thread of process {@code pid}; it keeps running. */
  public static TargetProcess attach(int pid) {
    return remember(new TargetProcess(Target.attach(pid)));
  }

  /** Starts a program held at its first instruction; {@code resume()} lets it run. */
  public static TargetProcess launch(String... argv) {
    return remember(new TargetProcess(Target.launch(List.of(argv))));
  }

  /** The calls most worth knowing, one per line. */
  public static String help() {
    return """
        qpatch shell: the engine, scripted in Java. The most useful calls:
          var p = attach(PID)                 attach to a running process (it keeps running)
          var p = launch("./prog", "arg")     start a program held at its first instruction
          p.threads()  p.modules()  p.maps()  threads, modules, memory map
          p.sym("sleep")  p.where(addr)       name -> address, address -> module!symbol+off
          p.read(addr, n)  p.write(addr, b)   memory (writes work on read-only code)
          p.listing("sleep", 8)               disassembly of a function
          p.call("getpid")                    call a function inside the process
          p.apply("cpatch.o")                 load and activate a patch (p.load / p.activate)
          p.rollback("cpatch.o")  p.patches() undo a patch; list patches and their state
          try (var s = p.stop()) { ... }      stop every thread, resume on close
          p.detach()                          let the process go, exactly as it was
          help()                              this text
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
        System.err.println("qpatch: detaching from pid " + p.pid() + " failed: " + e.getMessage());
      }
    }
  }
}
