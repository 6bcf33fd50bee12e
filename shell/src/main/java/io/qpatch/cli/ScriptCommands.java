package io.qpatch.cli;

import io.qpatch.error.BadInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.OptionalInt;
import jdk.jshell.tool.JavaShellToolBuilder;

/**
 * {@code qpatch shell} and {@code qpatch run}: JShell with the engine in the same JVM
 * (local execution), so what a snippet attaches stays attached between snippets and the
 * tracer thread is shared.
 */
final class ScriptCommands {
  /** Imports every snippet sees: the facade, its static entry points, the engine's types. */
  static final String IMPORTS =
      """
      import io.qpatch.*;
      import static io.qpatch.Qpatch.*;
      import io.qpatch.proc.*;
      import io.qpatch.symbols.*;
      import io.qpatch.arch.x86_64.Instruction;
      import io.qpatch.sys.Reg;
      import io.qpatch.trace.TraceEvent;
      import java.nio.file.*;
      import java.util.*;
      """;

  private final Io io;

  ScriptCommands(Io io) {
    this.io = io;
  }

  /** The interactive shell (tab completion, history, /help) of the JDK's jshell tool. */
  int shell(OptionalInt pid) {
    StringBuilder startup = new StringBuilder(IMPORTS);
    startup.append("System.out.print(help());\n");
    pid.ifPresent(p -> startup.append("var target = attach(").append(p).append(");\n")
        .append("System.out.println(\"target = pid ").append(p)
        .append(" (attached; target.detach() lets it go)\");\n"));
    Path file = writeTemp(startup.toString());
    try (var streams = SystemStreams.redirect(io)) {
      return JavaShellToolBuilder.builder()
          .in(io.in(), null)
          .out(io.out())
          .err(io.err())
          .persistence(new HashMap<>())
          .start("--execution", "local", "--class-path", classPath(), "--startup", "DEFAULT",
              "--startup", file.toString());
    } catch (Exception e) {
      throw new IllegalStateException("jshell failed to start: " + e, e);
    } finally {
      deleteQuietly(file);
    }
  }

  /**
   * Runs a recipe to its end; its exit status is the command's. A .jsh recipe runs in
   * JShell; any other goes to the {@link ScriptEngineProvider} that handles it (the JS build
   * has one for .js).
   */
  int run(Path script, List<String> args) {
    String name = script.getFileName().toString();
    if (!Files.isRegularFile(script)) throw new BadInputException(script + ": no such script");
    try (var streams = SystemStreams.redirect(io)) {
      if (name.endsWith(".jsh")) return new ScriptRunner(io, classPath()).run(script, args);
      return ScriptEngineProvider.forScript(script)
          .orElseThrow(() -> noRunner(script, name))
          .run(script, args, io);
    }
  }

  private static BadInputException noRunner(Path script, String name) {
    if (name.endsWith(".js")) {
      return new BadInputException(script + ": JavaScript recipes need the JS build (GraalVM"
          + " Polyglot): run it with 'QPATCH_JS=1 ./qpatch run " + script + "'");
    }
    return new BadInputException(script + ": not a recipe (expected a .jsh file, or .js in the JS build)");
  }

  static String classPath() {
    return System.getProperty("java.class.path");
  }

  private static Path writeTemp(String text) {
    try {
      Path f = Files.createTempFile("qpatch-startup", ".jsh");
      Files.writeString(f, text);
      return f;
    } catch (IOException e) {
      throw new IllegalStateException("cannot write the shell's startup file: " + e.getMessage(), e);
    }
  }

  private static void deleteQuietly(Path f) {
    try {
      Files.deleteIfExists(f);
    } catch (IOException e) {
      // a temp file left behind is harmless
    }
  }
}
