package io.qpatch.cli;

import io.qpatch.error.BadInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

import jdk.jshell.EvalException;
import jdk.jshell.JShell;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;

/**
 * Runs a .jsh recipe non-interactively through the JShell API in this JVM: snippet by
 * snippet, stopping at the first one that does not compile or throws. Values are not
 * echoed (a recipe prints what it means to). The script sees its arguments as {@code
 * String[] args}; {@code exit(n)} ends it with status n.
 *
 * <p>Exit status: the script's {@code exit(n)}; 0 when it runs to its end; 1 when it
 * fails, after one line {@code SCRIPT:LINE: what failed}.
 */
final class ScriptRunner {
  private final Io io;
  private final String classPath;

  ScriptRunner(Io io, String classPath) {
    this.io = io;
    this.classPath = classPath;
  }

  int run(Path script, List<String> args) {
    String source = read(script);
    try (JShell shell = JShell.builder()
        .executionEngine("local")
        .out(io.out())
        .err(io.err())
        .compilerOptions("--class-path", classPath)
        .build()) {
      shell.addToClasspath(classPath);
      String prelude = ScriptCommands.IMPORTS + "String[] args = new String[] {"
          + args.stream().map(ScriptRunner::javaString).collect(Collectors.joining(", ")) + "};\n";
      Integer status = evalAll(shell, prelude, script, -1);
      if (status != null) return status;
      status = evalAll(shell, source, script, 1);
      return status == null ? 0 : status;
    }
  }

  /** Evaluates every snippet of {@code source}; returns an exit status to stop with, or null. */
  private Integer evalAll(JShell shell, String source, Path script, int firstLine) {
    SourceCodeAnalysis analysis = shell.sourceCodeAnalysis();
    String rest = source;
    int line = firstLine;
    while (!rest.isBlank()) {
      SourceCodeAnalysis.CompletionInfo info = analysis.analyzeCompletion(rest);
      String snippet = info.source();
      if (snippet == null || info.completeness() == SourceCodeAnalysis.Completeness.DEFINITELY_INCOMPLETE) {
        return fail(script, line, "incomplete statement at end of script");
      }
      int consumed = rest.length() - info.remaining().length();
      int startLine = line + leadingNewlines(rest);
      Integer status = evalOne(shell, snippet, script, startLine);
      if (status != null) return status;
      line += count(rest.substring(0, consumed), '\n');
      rest = info.remaining();
    }
    return null;
  }

  private Integer evalOne(JShell shell, String snippet, Path script, int line) {
    for (SnippetEvent e : shell.eval(snippet)) {
      if (e.exception() != null) return failed(script, line, e.exception());
      if (e.status() == Snippet.Status.REJECTED) {
        String why = shell.diagnostics(e.snippet()).map(d -> d.getMessage(null))
            .findFirst().orElse("does not compile");
        return fail(script, line, why.lines().findFirst().orElse(why));
      }
    }
    return null;
  }

  private Integer failed(Path script, int line, Exception thrown) {
    if (thrown instanceof EvalException ee) {
      String type = ee.getExceptionClassName();
      if (type.equals("io.qpatch.ScriptExit")) return Integer.parseInt(ee.getMessage());
      if (type.startsWith("io.qpatch.error.")) return fail(script, line, ee.getMessage());
      return fail(script, line, type + (ee.getMessage() == null ? "" : ": " + ee.getMessage()));
    }
    return fail(script, line, thrown.toString());
  }

  private int fail(Path script, int line, String message) {
    String where = line > 0 ? script + ":" + line : script.toString();
    io.err().println(where + ": " + message);
    return 1;
  }

  private static String read(Path script) {
    try {
      return Files.readString(script);
    } catch (IOException e) {
      throw new BadInputException(script + ": cannot read: " + e.getMessage());
    }
  }

  private static int leadingNewlines(String s) {
    int n = 0;
    for (int i = 0; i < s.length() && Character.isWhitespace(s.charAt(i)); i++) {
      if (s.charAt(i) == '\n') n++;
    }
    return n;
  }

  private static int count(String s, char c) {
    return (int) s.chars().filter(x -> x == c).count();
  }

  private static String javaString(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
  }

}
