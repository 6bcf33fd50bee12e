package io.qpatch.symbols;

import io.qpatch.proc.Mapping;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Groups the mappings of /proc/PID/maps into modules and finds the main program. */
final class ModuleScan {
  private ModuleScan() {}

  /**
   * One module per run of mappings of the same file (same device, inode and path) with
   * non-decreasing offsets; anonymous areas between them (.bss tails) do not split a run.
   * Only runs with an executable mapping are modules: that leaves out data files mapped
   * read-only (locale archives, caches). The [vdso] is a module of its own.
   */
  static List<Module> group(int pid, List<Mapping> mappings, MemoryReader memory) {
    List<List<Mapping>> runs = new ArrayList<>();
    List<Mapping> run = null;
    Mapping last = null;
    for (Mapping m : mappings) {
      if (m.isVdso()) {
        runs.add(List.of(m));
        run = null;
      } else if (m.isFile()) {
        if (run != null && sameFile(last, m) && m.offset() >= last.offset()) {
          run.add(m);
        } else {
          run = new ArrayList<>(List.of(m));
          runs.add(run);
        }
        last = m;
      }
    }
    List<Module> modules = new ArrayList<>();
    for (List<Mapping> r : runs) {
      if (r.stream().anyMatch(m -> m.isExecutable() || m.isVdso())) {
        modules.add(new Module(pid, r, memory));
      }
    }
    return modules;
  }

  private static boolean sameFile(Mapping a, Mapping b) {
    return a.inode() == b.inode() && a.dev().equals(b.dev()) && a.path().equals(b.path());
  }

  /**
   * The module mapped from the file /proc/PID/exe names (the link text carries the same
   * " (deleted)" suffix as maps); failing that, the lowest-addressed module.
   */
  static Module mainProgram(int pid, List<Module> modules) {
    try {
      String exe = Files.readSymbolicLink(Path.of("/proc", Integer.toString(pid), "exe"))
          .toString();
      for (Module m : modules) {
        if (m.path().equals(exe)) return m;
      }
    } catch (IOException | UnsupportedOperationException e) {
      // No /proc/PID/exe (kernel thread, exited, no permission): use the fallback below.
    }
    return modules.stream().filter(m -> !m.isVdso()).findFirst().orElse(null);
  }
}
