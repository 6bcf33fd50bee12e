package io.qpatch.cli;

import io.qpatch.cli.TraceOptions.ArgsMode;
import io.qpatch.cli.TraceOptions.Backend;
import io.qpatch.cli.TraceOptions.OutputFormat;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.Supplier;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code gotrace [OPTIONS] PROGRAM [ARGS...]} and {@code gotrace [OPTIONS] -p PID}. Options
 * end at PROGRAM: everything after it is the program's command line, passed untouched
 * ({@code gotrace ./prog -p 5} runs {@code ./prog -p 5}).
 */
final class GotraceCli {
  private final Io io;
  private final Supplier<Commands> engine;

  GotraceCli(Io io, Supplier<Commands> engine) {
    this.io = io;
    this.engine = engine;
  }

  int run(List<String> args) {
    return spec().execute(io, args, parsed -> {
      if (parsed.value("backend").filter("help"::equals).isPresent()) {
        io.out().print(BACKENDS);
        return 0;
      }
      return engine.get().trace(options(parsed));
    });
  }

  /** {@code --backend help}: what each backend can give, and which one is the default. */
  static final String BACKENDS = """
      Backends (--backend NAME); each gives the goroutine id of every Go call, read at the call:
        ptrace  int3 breakpoints answered by gotrace: everything (returns, every decoded
                argument kind, floats included, assembly functions' goids), and the slowest
                (a stop of the thread per call: 16-26 us in bench/trace-bench).
        uprobe  kernel uprobes, values read by the kernel at the call (tracefs fetch
                arguments): returns, decoded strings, structs, interfaces, stack arguments;
                not floats (the kernel does not sample X registers), not the goid of Go
                assembly functions (shown as goid[------]). About 14 us a call; each probe
                costs ~0.1 s to remove, so it suits up to a hundred or so.
        inproc  trampolines in the program writing to a ring gotrace reads: the fastest
                (0.6-1.1 us a call; a call whose strings it copies pays one system call
                per string), every decoded argument kind, floats included, captured at
                the call, results at the return; it cannot probe a few functions (shorter
                than its 5-byte jump with no padding after, a branch into their first
                bytes; with --returns, a ret in a block shorter than 5 bytes with code
                after it): it names them.
      Default: the fastest that gives everything asked for: inproc when it can probe every
      function (and return) asked for; else uprobe when it can and the probes are at most
      128 (times the CPUs); else ptrace. A backend named with --backend that cannot give what
      is asked stops gotrace with the reason and the backends that can.
      """;

  private static TraceOptions options(ParsedArgs args) {
    OptionalInt pid = args.optionalPid();
    if (pid.isPresent() && !args.operands().isEmpty()) {
      throw args.error("give either PROGRAM or -p PID, not both (found '" + args.operands().getFirst() + "')");
    }
    if (pid.isEmpty() && args.operands().isEmpty()) {
      throw args.error("missing PROGRAM or -p PID");
    }
    return new TraceOptions(
        pid,
        args.operands(),
        args.path("o"),
        !args.has("c"),
        args.regex("filter"),
        args.regex("exclude"),
        args.has("returns"),
        args.choice("args", ArgsMode.class).orElse(ArgsMode.RAW),
        args.choice("format", OutputFormat.class).orElse(OutputFormat.TEXT),
        args.path("chrome"),
        args.has("summary"),
        args.choice("backend", Backend.class),
        args.seconds("duration"),
        args.has("lossy"));
  }

  private static CommandSpec spec() {
    return new CommandSpec(Cli.GOTRACE,
        List.of("gotrace [OPTIONS] PROGRAM [ARGS...]", "gotrace [OPTIONS] -p PID"),
        "Print every function call of a Go, C or C++ program: launch PROGRAM and trace it from\n"
            + "its first instruction (its exit status becomes gotrace's), or attach to the running\n"
            + "process PID until Ctrl-C or --duration, then detach and leave it running.\n"
            + "Options end at PROGRAM: everything after it is passed to the program untouched.",
        options(), true, outputFormatNote());
  }

  private static Options options() {
    return new Options()
        .addOption(QpatchCli.pidOption("attach to the running process PID instead of launching"))
        .addOption(valued("o", "output", "FILE", "write the trace to FILE instead of stdout"))
        .addOption(Option.builder("c").desc("do not demangle C++ names").get())
        .addOption(valued("f", "filter", "REGEX", "trace only functions whose name matches REGEX; it may name shared libraries' functions (^malloc$, libc.so.6!malloc)"))
        .addOption(valued("x", "exclude", "REGEX", "do not trace functions whose name matches REGEX"))
        .addOption(longFlag("returns", "also print each return, with result registers and duration"))
        .addOption(valued(null, "args", "raw|decoded", "arguments as raw registers (default) or decoded from DWARF"))
        .addOption(valued(null, "format", "text|json", "one text line per event (default) or JSON lines"))
        .addOption(valued(null, "chrome", "FILE", "also write a Chrome Trace Event file (opens in Perfetto)"))
        .addOption(longFlag("summary", "print calls, total and mean time per function at exit"))
        .addOption(valued(null, "backend", "ptrace|uprobe|inproc", "how calls are caught; 'help' says what each gives and the default"))
        .addOption(longFlag("lossy", "inproc: drop calls when gotrace falls behind (default: the program waits)"))
        .addOption(valued(null, "duration", "SECONDS", "stop tracing after SECONDS (detach when attached)"));
  }

  private static String outputFormatNote() {
    return "Go calls print as   mid[TID] goid[GOID]: [0xADDR] NAME <-( RAX, RBX, RCX, RDI, RSI, R8, R9, R10, R11, ... )\n"
        + "C/C++ calls print as tid[TID]: [0xADDR] NAME <-( RDI, RSI, RDX, RCX, R8, R9, ... )";
  }

  private static Option valued(String name, String longName, String argName, String description) {
    return Option.builder(name).longOpt(longName).hasArg().argName(argName).desc(description).get();
  }

  private static Option longFlag(String longName, String description) {
    return Option.builder().longOpt(longName).desc(description).get();
  }
}
