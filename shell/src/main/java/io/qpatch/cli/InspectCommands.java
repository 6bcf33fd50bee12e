package io.qpatch.cli;

import io.qpatch.Qpatch;
import io.qpatch.TargetProcess;
import io.qpatch.error.BadInputException;
import io.qpatch.proc.ThreadInfo;
import io.qpatch.elf.Symbol;
import io.qpatch.symbols.Ifuncs;
import io.qpatch.symbols.MemoryReader;
import io.qpatch.symbols.Module;
import io.qpatch.symbols.ProcessSymbols;
import io.qpatch.symbols.ResolvedSymbol;
import java.util.ArrayList;
import java.util.List;

/** {@code qpatch info} and {@code qpatch sym}: looking at a process without changing it. */
final class InspectCommands {
  private final Io io;

  InspectCommands(Io io) {
    this.io = io;
  }

  /**
   * Threads with their pc as symbol+offset (the process is stopped for a moment to read
   * them: well under a millisecond), then every module with base and build-id; through
   * the facade, as a script would.
   */
  void info(int pid) {
    try (TargetProcess p = Qpatch.attach(pid)) {
      List<ThreadInfo> threads = p.snapshot();
      String exe = p.modules().stream().filter(Module::isMainProgram).map(Module::path).findFirst().orElse("?");
      io.out().printf("process %d %s%n", pid, exe);
      io.out().printf("threads (%d):%n", threads.size());
      for (ThreadInfo t : threads) {
        String where = t.pc() < 0 ? "?" : "0x" + Long.toHexString(t.pc()) + " " + p.where(t.pc());
        io.out().printf("  %-8d %-16s %c  %s%n", t.tid(), t.name(), t.state(), where);
      }
      io.out().printf("modules (%d):%n", p.modules().size());
      for (Module m : p.modules()) {
        io.out().printf("  0x%012x  %-60s %s%n", m.base(), m.path(),
            m.buildId().map(id -> "build-id " + id).orElse("(no build-id)"));
      }
    }
  }

  /**
   * An IFUNC's two addresses, each on its own line: the resolver (the symbol's value) and
   * the implementation the process selected, which is what a patch or a trace of that name
   * takes over; its size, when known, comes from a symbol or the module's .eh_frame.
   */
  private void printIfunc(String name, ResolvedSymbol resolver, ProcessSymbols symbols) {
    io.out().printf("%s 0x%x %s ifunc-resolver%n", name, resolver.address(), resolver.module().path());
    try {
      ResolvedSymbol impl = new Ifuncs(symbols, MemoryReader.ofProcess(symbols.pid()), null)
          .implementationOf(resolver);
      String size = impl.symbol().size() > 0 ? ", " + impl.symbol().size() + " bytes" : "";
      io.out().printf("%s 0x%x %s ifunc-implementation (%s%s)%n", name, impl.address(),
          impl.module().path(), symbols.describe(impl.address()), size);
    } catch (BadInputException e) {
      io.out().printf("%s ? %s ifunc-implementation (%s)%n", name, resolver.module().path(), e.getMessage());
    }
  }

  /** One line per name found (two for an IFUNC); then an error naming every name that was not. */
  void sym(int pid, List<String> names) {
    List<String> problems = new ArrayList<>();
    try (ProcessSymbols symbols = ProcessSymbols.of(pid)) {
      for (String name : names) {
        try {
          ResolvedSymbol s = symbols.lookup(name);
          if (s.symbol().type() == Symbol.STT_GNU_IFUNC) {
            printIfunc(name, s, symbols);
          } else {
            io.out().printf("%s 0x%x %s%n", name, s.address(), s.module().path());
          }
        } catch (BadInputException e) {
          problems.add(e.getMessage());
        }
      }
    }
    if (problems.size() == 1) throw new BadInputException(problems.getFirst());
    if (!problems.isEmpty()) {
      throw new BadInputException(problems.size() + " names not resolved: "
          + String.join("; ", problems));
    }
  }
}
