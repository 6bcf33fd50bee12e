package io.qpatch.trace;

import io.qpatch.arch.x86_64.Decoder;
import io.qpatch.error.QpatchException;
import io.qpatch.proc.Target;
import io.qpatch.symbols.Module;
import io.qpatch.symbols.ProcessSymbols;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;

/**
 * Watches a traced process for shared libraries it maps later (dlopen) and hands the
 * functions the filter names in them to the backend. At the dynamic loader's gate ({@link
 * LoaderGate}) the loading thread waits while we read /proc/PID/maps and probe what is
 * new, so no call into a new library is missed. Where there is no gate (the probe was
 * refused) it reads the maps every {@link #POLL_NANOS} instead, and says that calls in the
 * first moments after a library was mapped are not seen.
 */
final class LibraryWatch implements AutoCloseable {
  static final long POLL_NANOS = 5_000_000;
  private final int pid;
  private final Selection selection;
  private final Backend backend;
  private final PrintStream messages;
  private final Set<String> known;
  private final LoaderGate gate;
  private final Thread poller;
  private volatile boolean closed;
  private int nextId;

  /**
   * @param target attached and held by the caller (the gate is planted through it)
   * @param known files already planned (or looked at), never planned again
   * @param firstId the id of the first function planned here (after the session's plan)
   */
  LibraryWatch(Target target, Selection selection, Backend backend, PrintStream messages, Set<String> known,
      int firstId) {
    this.pid = target.pid();
    this.selection = selection;
    this.backend = backend;
    this.messages = messages;
    this.known = new HashSet<>(known);
    this.nextId = firstId;
    LoaderGate.Result opened = LoaderGate.open(target, this::check);
    this.gate = opened.gate();
    if (opened.whyNot() != null) {
      messages.println("gotrace: libraries loaded later are looked for every " + POLL_NANOS / 1_000_000
          + " ms, so their first calls may be missed: " + opened.whyNot());
    }
    this.poller = gate != null ? null : Thread.ofPlatform().daemon().name("gotrace-library-watch").start(this::watch);
  }

  /** Executable file mappings of {@code pid} now (empty when it is gone). */
  static Set<String> mappedFiles(int pid) {
    Set<String> out = new HashSet<>();
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "maps"))) {
        String[] f = line.split("\\s+", 6);
        if (f.length == 6 && f[1].contains("x") && f[5].startsWith("/") && !Target.isEngineMapping(f[5])) out.add(f[5]);
      }
    } catch (IOException e) {
      // gone
    }
    return out;
  }

  private void watch() {
    while (!closed) {
      LockSupport.parkNanos(POLL_NANOS);
      if (!check()) return;
    }
  }

  /** Probes what is newly mapped; false when the process is gone. */
  private synchronized boolean check() {
    Set<String> now = mappedFiles(pid);
    if (now.isEmpty()) return false;
    now.removeAll(known);
    if (!now.isEmpty() && !closed) plan(now);
    return true;
  }

  private void plan(Set<String> files) {
    known.addAll(files);
    try (ProcessSymbols symbols = ProcessSymbols.of(pid)) {
      for (Module m : symbols.modules()) {
        if (m.isMainProgram() || m.isVdso() || !files.contains(m.path())) continue;
        try {
          plan(m);
        } catch (QpatchException e) {
          messages.println("gotrace: cannot read " + m.path() + ", which pid " + pid + " has loaded: " + e.getMessage());
        }
      }
    } catch (QpatchException e) {
      messages.println("gotrace: cannot read the libraries pid " + pid + " has loaded: " + e.getMessage());
    }
  }

  private void plan(Module m) {
    ProbePlan lib = new CPlanner(m.elf(), m.loadBias(), Decoder.shared(), m.name(), nextId).plan(m.path(), selection);
    if (lib.functions().isEmpty()) return;
    nextId += lib.functions().size();
    messages.println("gotrace: " + m.name() + " was loaded: " + lib.functions().size()
        + (backend.addWhileRunning(lib) ? " functions probed" : " functions not probed: the " + backend.name()
            + " backend could not add them while it runs (use uprobe or ptrace)"));
  }

  /** Libraries mapped from now on are not probed (the trace is ending); the gate lets loads through. */
  void stopPlanning() {
    closed = true;
  }

  /** Stops watching and takes the gate out (after the backend's probes: the gate may still be serving a load). */
  @Override
  public void close() {
    closed = true;
    if (poller != null) poller.interrupt();
    if (gate != null) gate.close();
  }
}
