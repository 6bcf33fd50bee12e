package io.qpatch.cli;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.commons.cli.CommandLine;

/**
 * A command's parsed arguments, with typed accessors that turn a malformed or missing
 * value into a {@link UsageException} carrying the command's usage.
 */
final class ParsedArgs {
  private static final Pattern DIGITS = Pattern.compile("[0-9]{1,10}");

  private final CommandSpec spec;
  private final CommandLine line;
  private final List<String> operands;

  ParsedArgs(CommandSpec spec, CommandLine line, List<String> operands) {
    this.spec = spec;
    this.line = line;
    this.operands = List.copyOf(operands);
  }

  boolean has(String option) {
    return line.hasOption(option);
  }

  Optional<String> value(String option) {
    return Optional.ofNullable(line.getOptionValue(option));
  }

  /** Every value of a repeatable option, comma-separated lists split ({@code -p 1,2 -p 3}). */
  List<String> values(String option) {
    String[] given = line.getOptionValues(option);
    if (given == null) return List.of();
    List<String> out = new java.util.ArrayList<>();
    for (String g : given) for (String v : g.split(",")) if (!v.isBlank()) out.add(v.strip());
    return out;
  }

  /** Every {@code -p} pid given (repeatable, comma lists), each checked as {@link #optionalPid} does. */
  List<Integer> pids() {
    List<Integer> out = new java.util.ArrayList<>();
    for (String pid : values("p")) out.add(checkedPid(pid));
    return out;
  }

  /** Operands, in order: for PROGRAM/SCRIPT commands, the other command line untouched. */
  List<String> operands() {
    return operands;
  }

  /** {@code -p PID}, which this command requires. */
  int pid() {
    return optionalPid().orElseThrow(() -> error("missing -p PID"));
  }

  OptionalInt optionalPid() {
    Optional<String> text = value("p");
    if (text.isEmpty()) {
      return OptionalInt.empty();
    }
    return OptionalInt.of(checkedPid(text.get()));
  }

  private int checkedPid(String pid) {
    // Linux pids are positive and at most 2^22 (PID_MAX_LIMIT, include/linux/threads.h);
    // anything numeric is passed on so that the engine can say the process does not exist.
    if (!DIGITS.matcher(pid).matches() || Long.parseLong(pid) < 1 || Long.parseLong(pid) > Integer.MAX_VALUE) {
      throw error("-p expects a process id (a positive number), got '" + pid + "'");
    }
    return Integer.parseInt(pid);
  }

  /** A file option such as {@code -o PATCH.o}, which this command requires. */
  Path requiredPath(String option, String argName) {
    return path(option).orElseThrow(() -> error("missing -" + option + " " + argName));
  }

  Optional<Path> path(String option) {
    return value(option).map(Path::of);
  }

  /** An option whose value is one of {@code type}'s constants, written in lower case. */
  <E extends Enum<E>> Optional<E> choice(String option, Class<E> type) {
    Optional<String> text = value(option);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    for (E constant : type.getEnumConstants()) {
      if (constant.name().toLowerCase(Locale.ROOT).equals(text.get())) {
        return Optional.of(constant);
      }
    }
    throw error("--" + option + " expects " + spec.options().getOption(option).getArgName()
        + ", got '" + text.get() + "'");
  }

  Optional<Pattern> regex(String option) {
    Optional<String> text = value(option);
    try {
      return text.map(Pattern::compile);
    } catch (PatternSyntaxException e) {
      throw error("--" + spec.options().getOption(option).getLongOpt()
          + " has a bad regular expression '" + text.get() + "': " + e.getDescription());
    }
  }

  /** A positive number of seconds, fractions allowed ({@code --duration 2.5}). */
  Optional<Duration> seconds(String option) {
    Optional<String> text = value(option);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    long nanos = nanos(text.get());
    if (nanos <= 0) {
      throw error("--" + option + " expects a positive number of seconds, got '" + text.get() + "'");
    }
    return Optional.of(Duration.ofNanos(nanos));
  }

  /** Seconds as nanoseconds; 0 when the text is not a number or out of range. */
  private static long nanos(String seconds) {
    try {
      return new BigDecimal(seconds).movePointRight(9).longValueExact();
    } catch (NumberFormatException | ArithmeticException e) {
      return 0;
    }
  }

  /** Fails unless there are no operands. */
  void noOperands() {
    if (!operands.isEmpty()) {
      throw error("unexpected argument '" + operands.getFirst() + "'");
    }
  }

  UsageException error(String message) {
    return spec.usageError(message);
  }
}
