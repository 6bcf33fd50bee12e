package io.qpatch.trace;

import io.qpatch.error.BadInputException;
import io.qpatch.proc.Target;
import java.io.PrintStream;
import java.util.Optional;

/** Picks the backend: the one asked for, else the fastest this process may use. */
final class Backends {
  private Backends() {}

  static Backend choose(Optional<String> wanted, Target target, PrintStream messages) {
    String name = wanted.orElse("ptrace");
    return switch (name) {
      case "ptrace" -> new PtraceBackend(target);
      default -> throw new BadInputException("unknown backend '" + name + "': use ptrace or uprobe");
    };
  }
}
