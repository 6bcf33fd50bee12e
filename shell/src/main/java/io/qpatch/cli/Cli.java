package io.qpatch.cli;

import io.qpatch.error.QpatchException;
import io.qpatch.error.Warnings;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The command lines of both tools, and the one place that turns outcomes into exit
 * statuses and messages:
 *
 * <ul>
 *   <li>a {@link QpatchException} (the user can act on it): {@code TOOL: message} on one
 *       line, status 1;
 *   <li>a wrong command line: the message and the command's usage, status 2;
 *   <li>anything else is a bug in qpatch: "internal error" and the stack trace, status
 *       70 ({@code EX_SOFTWARE} in sysexits.h).
 * </ul>
 */
public final class Cli {
  public static final int EXIT_OK = 0;
  public static final int EXIT_ERROR = 1;
  public static final int EXIT_USAGE = 2;
  public static final int EXIT_INTERNAL = 70;

  static final String QPATCH = "qpatch";
  static final String GOTRACE = "gotrace";

  private final Io io;
  private final Function<Io, Commands> commands;

  /** {@code commands} makes the engine seam; {@link Commands#forThisBuild} in the jar. */
  public Cli(Io io, Function<Io, Commands> commands) {
    this.io = io;
    this.commands = commands;
  }

  /** {@code args[0]} is the tool, {@code qpatch} or {@code gotrace}; returns the exit status. */
  public int run(String... args) {
    if (args.length == 0 || !List.of(QPATCH, GOTRACE).contains(args[0])) {
      io.err().println("usage: java -jar qpatch.jar qpatch|gotrace [ARGS...] (use the ./qpatch and ./gotrace launchers)");
      return EXIT_USAGE;
    }
    String tool = args[0];
    List<String> rest = Arrays.asList(args).subList(1, args.length);
    // what the engine reports while it works goes to this command's stderr, under its name
    java.util.function.Consumer<String> before = Warnings.listen(line -> io.err().println(tool + ": " + line));
    try {
      return dispatch(tool, rest);
    } catch (UsageException e) {
      io.err().println(tool + ": " + e.getMessage());
      io.err().print(e.usage());
      return EXIT_USAGE;
    } catch (QpatchException e) {
      io.err().println(tool + ": " + oneLine(e));
      return EXIT_ERROR;
    } catch (RuntimeException | LinkageError e) {
      io.err().println(tool + ": internal error (a bug in qpatch; please report it with this trace):");
      e.printStackTrace(io.err());
      return EXIT_INTERNAL;
    } finally {
      Warnings.listen(before);
    }
  }

  private int dispatch(String tool, List<String> args) {
    Supplier<Commands> engine = () -> commands.apply(io);
    if (tool.equals(GOTRACE)) {
      return new GotraceCli(io, engine).run(args);
    }
    return new QpatchCli(io, engine).run(args);
  }

  /** The engine promises one-line messages; a stray line break must not break that here. */
  private static String oneLine(QpatchException e) {
    String message = e.getMessage();
    if (message == null || message.isBlank()) {
      return e.getClass().getSimpleName();
    }
    return message.strip().replaceAll("\\s*\\R\\s*", "; ");
  }
}
