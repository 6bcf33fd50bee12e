package io.qpatch.cli;

import io.qpatch.fleet.Fleet;
import io.qpatch.fleet.ProcessSelection;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code qpatch}: the seed's lifecycle flags ({@code -o PATCH.o -p PID -l|-a|-r|-q}) and
 * the commands apply, info, sym, demo, shell, run. Parses and checks the command line,
 * then calls the engine through {@link Commands}.
 */
final class QpatchCli {
  private record Command(String summary, CommandSpec spec, ToIntFunction<ParsedArgs> action) {}

  private final Io io;
  private final Supplier<Commands> engine;
  private final Map<String, Command> commands = new LinkedHashMap<>();

  QpatchCli(Io io, Supplier<Commands> engine) {
    this.io = io;
    this.engine = engine;
    define("apply", "load and activate PATCH.o in one stop", applySpec(), this::apply);
    define("status", "every process on this host that carries a patch", statusSpec(), this::status);
    define("info", "threads and modules of a process", infoSpec(), this::info);
    define("sym", "resolve symbol names in a process", symSpec(), this::sym);
    define("demo", "build the examples and patch a running cmain", demoSpec(), this::demo);
    define("shell", "interactive JShell with the engine loaded", shellSpec(), this::shell);
    define("run", "run a .jsh recipe", runSpec(), this::run);
  }

  private void define(String name, String summary, CommandSpec spec, ToIntFunction<ParsedArgs> action) {
    commands.put(name, new Command(summary, spec, action));
  }

  int run(List<String> args) {
    if (!args.isEmpty() && commands.containsKey(args.getFirst())) {
      Command command = commands.get(args.getFirst());
      return command.spec().execute(io, args.subList(1, args.size()), command.action());
    }
    CommandSpec lifecycle = lifecycleSpec();
    if (args.isEmpty()) {
      throw lifecycle.usageError("missing a command, or -l|-a|-r|-q with -o PATCH.o -p PID");
    }
    return lifecycle.execute(io, args, parsed -> lifecycle(parsed, args.getFirst()));
  }

  private int lifecycle(ParsedArgs args, String firstArgument) {
    if (!args.operands().isEmpty() && args.operands().getFirst().equals(firstArgument)) {
      throw args.error("unknown command '" + firstArgument + "'");
    }
    args.noOperands();
    PatchAction action = lifecycleAction(args);
    Optional<Path> object = args.path("o");
    if (object.isEmpty() && action != PatchAction.QUERY) {
      throw args.error("missing -o PATCH.o (" + action.flag() + " needs the patch object)");
    }
    ProcessSelection selection = selection(args);
    if (isFleet(args, selection)) {
      Path o = object.orElseThrow(() -> args.error("-q on several processes needs -o PATCH.o (qpatch status lists every patch)"));
      return engine.get().fleet(request(args, fleetAction(action), o, selection));
    }
    engine.get().patch(action, object, selection.pids().getFirst());
    return Cli.EXIT_OK;
  }

  /** The processes -p (repeatable, comma lists), --exe and --lib name; at least one of them. */
  private static ProcessSelection selection(ParsedArgs args) {
    List<Path> exes = args.values("exe").stream().map(Path::of).toList();
    ProcessSelection s = new ProcessSelection(args.pids(), exes, args.values("lib"));
    if (s.pids().isEmpty() && s.executables().isEmpty() && s.libraries().isEmpty()) {
      throw args.error("missing -p PID (or --exe PATH, --lib NAME)");
    }
    return s;
  }

  private static FleetCommands.Request request(ParsedArgs args, Fleet.Action action, Path object, ProcessSelection s) {
    return new FleetCommands.Request(action, object, s, args.has("dry-run"), args.has("json"));
  }

  /** Anything but the seed's one {@code -p PID} (whose output and errors stay as they were). */
  private static boolean isFleet(ParsedArgs args, ProcessSelection s) {
    return !s.isOnePid() || args.has("dry-run") || args.has("json");
  }

  private static Fleet.Action fleetAction(PatchAction a) {
    return switch (a) {
      case LOAD -> Fleet.Action.LOAD;
      case ACTIVATE -> Fleet.Action.ACTIVATE;
      case ROLLBACK -> Fleet.Action.ROLLBACK;
      case QUERY -> Fleet.Action.QUERY;
    };
  }

  /** Exactly one of -l, -a, -r, -q. */
  private static PatchAction lifecycleAction(ParsedArgs args) {
    List<PatchAction> chosen = new ArrayList<>();
    for (PatchAction action : PatchAction.values()) {
      if (args.has(action.flag().substring(1))) {
        chosen.add(action);
      }
    }
    if (chosen.size() != 1) {
      throw args.error("give exactly one of -l (load), -a (activate), -r (rollback), -q (query)");
    }
    return chosen.getFirst();
  }

  private int apply(ParsedArgs args) {
    args.noOperands();
    Path object = args.requiredPath("o", "PATCH.o");
    ProcessSelection selection = selection(args);
    if (isFleet(args, selection)) {
      return engine.get().fleet(request(args, Fleet.Action.APPLY, object, selection));
    }
    engine.get().apply(object, selection.pids().getFirst());
    return Cli.EXIT_OK;
  }

  private int status(ParsedArgs args) {
    args.noOperands();
    return engine.get().status();
  }

  private int info(ParsedArgs args) {
    args.noOperands();
    engine.get().info(args.pid());
    return Cli.EXIT_OK;
  }

  private int sym(ParsedArgs args) {
    int pid = args.pid();
    if (args.operands().isEmpty()) {
      throw args.error("missing NAME: give at least one symbol name");
    }
    engine.get().sym(pid, args.operands());
    return Cli.EXIT_OK;
  }

  private int demo(ParsedArgs args) {
    args.noOperands();
    return new Demo(io, engine.get(), Demo.home(), Demo.WINDOW).run();
  }

  private int shell(ParsedArgs args) {
    args.noOperands();
    return engine.get().shell(args.optionalPid());
  }

  private int run(ParsedArgs args) {
    if (args.operands().isEmpty()) {
      throw args.error("missing SCRIPT");
    }
    List<String> operands = args.operands();
    return engine.get().run(Path.of(operands.getFirst()), operands.subList(1, operands.size()));
  }

  private CommandSpec lifecycleSpec() {
    Options options = selectionOptions(new Options().addOption(objectOption()))
        .addOption(flag("l", "load", "load PATCH.o into the process (nothing redirected yet)"))
        .addOption(flag("a", "activate", "activate the loaded PATCH.o: its functions take over"))
        .addOption(flag("r", "rollback", "deactivate and unload PATCH.o"))
        .addOption(flag("q", "query", "print the state of PATCH.o, or of every patch without -o"));
    return new CommandSpec(Cli.QPATCH,
        List.of("qpatch -o PATCH.o -p PID -l|-a|-r|-q", "qpatch -o PATCH.o -p PID,PID|--exe PATH|--lib NAME -l|-a|-r|-q",
            "qpatch COMMAND [OPTIONS] [ARGS...]"),
        "Hot-patch a running Linux x86-64 process from a relocatable .o compiled from C or C++.\n"
            + "-l, -a, -r and -q are separate invocations; the patch state lives in the target.\n"
            + "With several processes each is patched all or nothing, several at once, one line each\n"
            + "and a summary; one already as wanted is left alone; exit 0 only if every one succeeded.",
        options, false, commandList());
  }

  private String commandList() {
    StringBuilder text = new StringBuilder("Commands:\n");
    commands.forEach((name, command) ->
        text.append("  ").append(String.format("%-7s", name)).append(command.summary()).append('\n'));
    return text.append("Run 'qpatch COMMAND --help' for the options of a command.").toString();
  }

  private static CommandSpec applySpec() {
    Options options = selectionOptions(new Options().addOption(objectOption()));
    return spec("qpatch apply -o PATCH.o -p PID|--exe PATH|--lib NAME [--dry-run] [--json]",
        "Load and activate PATCH.o in the running process PID, with one stop of its threads;\n"
            + "or in every selected process (one already active is left alone).",
        options);
  }

  private static CommandSpec statusSpec() {
    return spec("qpatch status",
        "List every process on this host that carries a qpatch patch: pid, command, patch,\n"
            + "state, loaded since. Processes are found from their memory maps.",
        new Options());
  }

  /** -p (repeatable, comma lists), --exe, --lib, --dry-run, --json. */
  private static Options selectionOptions(Options o) {
    return o.addOption(Option.builder("p").longOpt("pid").hasArg().argName("PID[,PID...]")
            .desc("the target process; several: repeat -p or give a comma list").get())
        .addOption(Option.builder().longOpt("exe").hasArg().argName("PATH")
            .desc("every process running this executable (the same file, not the same name)").get())
        .addOption(Option.builder().longOpt("lib").hasArg().argName("NAME|PATH")
            .desc("every process that maps this library (libssl.so.3, or its path)").get())
        .addOption(Option.builder().longOpt("dry-run")
            .desc("check everything a real run would, per process, and change nothing").get())
        .addOption(Option.builder().longOpt("json").desc("one JSON object per process, then a summary object").get());
  }

  private static CommandSpec infoSpec() {
    return spec("qpatch info -p PID",
        "Print the threads (tid, state, pc as symbol+offset) and the mapped modules\n"
            + "(path, base address, build-id) of the running process PID.",
        new Options().addOption(pidOption("the process to inspect")));
  }

  private static CommandSpec symSpec() {
    return spec("qpatch sym -p PID NAME...",
        "Resolve each NAME (sleep, or libc.so.6!sleep) in the running process PID and print\n"
            + "'NAME 0xADDRESS MODULE' per name; exit status 1 if any name is not found.",
        new Options().addOption(pidOption("the process whose symbols to resolve")));
  }

  private static CommandSpec demoSpec() {
    return spec("qpatch demo",
        "Build the bundled examples with gcc, start cmain, patch its sleep() while it runs,\n"
            + "roll the patch back, and stop everything it started.",
        new Options());
  }

  private static CommandSpec shellSpec() {
    return spec("qpatch shell [-p PID]",
        "Start an interactive JShell with the qpatch engine loaded; with -p, the process\n"
            + "PID is already attached as `target`.",
        new Options().addOption(pidOption("attach to this process first")));
  }

  private static CommandSpec runSpec() {
    return new CommandSpec(Cli.QPATCH, List.of("qpatch run SCRIPT [ARGS...]"),
        "Run the .jsh recipe SCRIPT non-interactively with ARGS; the exit status is the\n"
            + "script's. Options after SCRIPT belong to the script.",
        new Options(), true, "");
  }

  private static CommandSpec spec(String synopsis, String description, Options options) {
    return new CommandSpec(Cli.QPATCH, List.of(synopsis), description, options, false, "");
  }

  private static Option objectOption() {
    return Option.builder("o").longOpt("object").hasArg().argName("PATCH.o")
        .desc("the patch: a relocatable object from gcc -c or g++ -c").get();
  }

  static Option pidOption(String description) {
    return Option.builder("p").longOpt("pid").hasArg().argName("PID").desc(description).get();
  }

  private static Option flag(String name, String longName, String description) {
    return Option.builder(name).longOpt(longName).desc(description).get();
  }
}
