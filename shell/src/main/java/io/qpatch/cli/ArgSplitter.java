package io.qpatch.cli;

import java.util.List;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * Finds where a command's own options end, for commands whose operands are another
 * command line ({@code gotrace PROGRAM ARGS...}, {@code qpatch run SCRIPT ARGS...}).
 *
 * <p>Commons CLI's stop-at-non-option mode also stops at an unknown option and hands it
 * over as an operand, which would turn {@code gotrace --bogus prog} into running a
 * program called {@code --bogus}. Splitting first and then parsing the options part
 * strictly reports the unknown option instead.
 */
final class ArgSplitter {
  private ArgSplitter() {}

  /** The options part, and the operands (everything from the first non-option). */
  record Split(List<String> options, List<String> operands) {}

  static Split split(Options options, List<String> args) {
    for (int i = 0; i < args.size(); i++) {
      String token = args.get(i);
      if (token.equals("--")) {
        return new Split(args.subList(0, i), args.subList(i + 1, args.size()));
      }
      if (!token.startsWith("-") || token.equals("-")) {
        return new Split(args.subList(0, i), args.subList(i, args.size()));
      }
      if (takesNextTokenAsValue(options, token)) {
        i++;
      }
    }
    return new Split(args, List.of());
  }

  /** True for {@code -p}, {@code -cp}, {@code --pid}: the value is the next token. */
  private static boolean takesNextTokenAsValue(Options options, String token) {
    if (token.startsWith("--")) {
      Option option = options.getOption(token.substring(2));
      return !token.contains("=") && option != null && option.hasArg();
    }
    for (int j = 1; j < token.length(); j++) {
      Option option = options.getOption(String.valueOf(token.charAt(j)));
      if (option == null) {
        return false;
      }
      if (option.hasArg()) {
        return j == token.length() - 1;
      }
    }
    return false;
  }
}
