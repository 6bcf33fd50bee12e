package io.qpatch.js;

import io.qpatch.ScriptExit;
import io.qpatch.cli.Io;
import io.qpatch.error.QpatchException;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.SourceSection;

/**
 * How a .js recipe that threw ends, by the policy of .jsh recipes: {@code exit(n)} (the
 * facade's {@link ScriptExit}, thrown through the script) is status n; a qpatch error is
 * its one-line message, any other Java exception its class and message, a JS error its
 * text; each after {@code SCRIPT:LINE: }, status 1. An internal error of GraalJS is a bug
 * and goes on to the command line's handler, which prints its trace.
 */
final class JsFailure {
  private JsFailure() {}

  /** Prints what failed, if anything did, and returns the exit status. */
  static int report(Path script, PolyglotException e, Io io) {
    if (e.isInternalError()) throw e;
    if (e.isExit()) return e.getExitStatus();
    if (e.isHostException() && e.asHostException() instanceof ScriptExit exit) return exit.code();
    OptionalInt line = lineIn(script, e);
    String where = line.isPresent() ? script + ":" + line.getAsInt() : script.toString();
    io.err().println(where + ": " + message(e));
    return 1;
  }

  private static String message(PolyglotException e) {
    if (!e.isHostException()) return firstLine(e.getMessage());
    Throwable host = e.asHostException();
    if (host instanceof QpatchException) return host.getMessage();
    return host.getMessage() == null ? host.getClass().getName()
        : host.getClass().getName() + ": " + firstLine(host.getMessage());
  }

  /**
   * The script's line that failed: where a JS error was thrown, or for a Java exception
   * the innermost line of the script on the stack (the call into Java).
   */
  private static OptionalInt lineIn(Path script, PolyglotException e) {
    if (inScript(script, e.getSourceLocation())) return OptionalInt.of(e.getSourceLocation().getStartLine());
    for (PolyglotException.StackFrame frame : e.getPolyglotStackTrace()) {
      if (frame.isGuestFrame() && inScript(script, frame.getSourceLocation())) {
        return OptionalInt.of(frame.getSourceLocation().getStartLine());
      }
    }
    return OptionalInt.empty();
  }

  private static boolean inScript(Path script, SourceSection where) {
    if (where == null || !where.isAvailable() || where.getSource().getPath() == null) return false;
    return Path.of(where.getSource().getPath()).toAbsolutePath().equals(script.toAbsolutePath());
  }

  private static String firstLine(String text) {
    if (text == null) return "failed";
    return text.lines().findFirst().orElse(text);
  }
}
