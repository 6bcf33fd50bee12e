package io.qpatch.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToIntFunction;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;

/**
 * One command's syntax: its synopsis, what it does, its options. Parses the command's
 * arguments (every command gets {@code -h/--help} and {@code --version}) and renders
 * its help text.
 *
 * @param tool {@code qpatch} or {@code gotrace}: the version line and messages name it
 * @param synopsis usage lines, without the leading {@code usage:}
 * @param description what the command does, printed under the synopsis
 * @param options the command's own options
 * @param operandsEndOptions true when everything from the first operand on belongs to
 *     another command line (PROGRAM ARGS..., SCRIPT ARGS...) and is passed on untouched
 * @param footer printed after the options (may be empty)
 */
record CommandSpec(
    String tool,
    List<String> synopsis,
    String description,
    Options options,
    boolean operandsEndOptions,
    String footer) {

  CommandSpec {
    synopsis = List.copyOf(synopsis);
    options.addOption(Option.builder("h").longOpt("help").desc("print this help and exit").get());
    options.addOption(Option.builder().longOpt("version").desc("print the version and exit").get());
  }

  /**
   * Parses {@code args}; answers {@code --help} and {@code --version} itself, otherwise
   * hands the parsed arguments to {@code action} and returns its exit status.
   */
  int execute(Io io, List<String> args, ToIntFunction<ParsedArgs> action) {
    ParsedArgs parsed = parse(args);
    if (parsed.has("help")) {
      io.out().print(help());
      return Cli.EXIT_OK;
    }
    if (parsed.has("version")) {
      io.out().println(Version.line(tool));
      return Cli.EXIT_OK;
    }
    return action.applyAsInt(parsed);
  }

  ParsedArgs parse(List<String> args) {
    List<String> optionPart = args;
    List<String> operands = List.of();
    if (operandsEndOptions) {
      ArgSplitter.Split split = ArgSplitter.split(options, args);
      optionPart = split.options();
      operands = split.operands();
    }
    CommandLine line = parseStrictly(optionPart);
    if (!operandsEndOptions) {
      operands = line.getArgList();
    }
    return new ParsedArgs(this, line, operands);
  }

  private CommandLine parseStrictly(List<String> args) {
    try {
      return DefaultParser.builder()
          .setAllowPartialMatching(false)
          .get()
          .parse(options, args.toArray(String[]::new), false);
    } catch (ParseException e) {
      throw usageError(e.getMessage());
    }
  }

  UsageException usageError(String message) {
    return new UsageException(message, usage());
  }

  /** What a wrong command line gets: the synopsis and the options. */
  String usage() {
    StringBuilder text = new StringBuilder();
    appendSynopsis(text);
    text.append("Options:\n");
    appendOptions(text);
    return text.toString();
  }

  /** What --help prints: synopsis, description, options, footer. */
  String help() {
    StringBuilder text = new StringBuilder();
    appendSynopsis(text);
    text.append('\n').append(description).append("\n\nOptions:\n");
    appendOptions(text);
    if (!footer.isEmpty()) {
      text.append('\n').append(footer).append('\n');
    }
    return text.toString();
  }

  private void appendSynopsis(StringBuilder text) {
    String prefix = "usage: ";
    for (String line : synopsis) {
      text.append(prefix).append(line).append('\n');
      prefix = " ".repeat(prefix.length());
    }
  }

  private void appendOptions(StringBuilder text) {
    List<String> labels = new ArrayList<>();
    for (Option option : options.getOptions()) {
      labels.add(label(option));
    }
    int width = labels.stream().mapToInt(String::length).max().orElse(0) + 2;
    int i = 0;
    for (Option option : options.getOptions()) {
      String label = labels.get(i++);
      text.append("  ").append(label).append(" ".repeat(width - label.length()));
      text.append(option.getDescription()).append('\n');
    }
  }

  /** {@code -p, --pid PID}, {@code     --returns}, {@code -c}. */
  private static String label(Option option) {
    StringBuilder label = new StringBuilder();
    label.append(option.getOpt() != null ? "-" + option.getOpt() : "  ");
    if (option.getLongOpt() != null) {
      label.append(option.getOpt() != null ? ", " : "  ").append("--").append(option.getLongOpt());
    }
    if (option.hasArg()) {
      label.append(' ').append(option.getArgName());
    }
    return label.toString();
  }
}
