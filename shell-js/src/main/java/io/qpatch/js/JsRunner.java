package io.qpatch.js;

import io.qpatch.cli.Io;
import io.qpatch.cli.ScriptEngineProvider;
import io.qpatch.error.BadInputException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.HostAccess;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.Source;
import org.graalvm.polyglot.Value;

/**
 * Runs a .js recipe with GraalJS (GraalVM Polyglot) in this JVM. The script sees the same
 * facade as a .jsh recipe: {@code attach}, {@code launch}, {@code help} and {@code exit} as
 * global functions, its arguments as the JS array {@code args}, and Java classes of {@code
 * io.qpatch.*} and {@code java.*} through {@code Java.type}. {@code print} and {@code
 * console.log} write to the command's output.
 *
 * <p>Exit status as for .jsh ({@code ScriptRunner}): n after {@code exit(n)}, 0 at the end,
 * 1 after one line {@code SCRIPT:LINE: message} when the script fails ({@link JsFailure}).
 */
public final class JsRunner implements ScriptEngineProvider {
  /**
   * Defines the globals, then is done: one function, so that the facade's class and the
   * arguments come in as parameters rather than as extra global names.
   */
  private static final String PRELUDE =
      """
      (function (Qpatch, argv) {
        globalThis.attach = pid => Qpatch.attach(pid);
        globalThis.launch = (...argv) => Qpatch.launch(...argv);
        globalThis.help = () => Qpatch.help();
        globalThis.exit = code => Qpatch.exit(code);
        globalThis.args = Java.from(argv);
      })
      """;

  @Override
  public boolean handles(Path script) {
    return script.getFileName().toString().endsWith(".js");
  }

  @Override
  public int run(Path script, List<String> args, Io io) {
    // A JS context admits one thread: breakpoint callbacks must come to the script's own.
    System.setProperty("qpatch.callbacks.handOff", "true");
    Source source = load(script);
    try (Context context = newContext(io)) {
      Value prelude = context.eval(Source.create("js", PRELUDE));
      prelude.execute(context.eval("js", "Java.type('io.qpatch.Qpatch')"), args.toArray(String[]::new));
      context.eval(source);
      return 0;
    } catch (PolyglotException e) {
      return JsFailure.report(script, e, io);
    }
  }

  /**
   * A context that prints to {@code io} and may use every public member of the classes it
   * looks up. GraalJS on a stock JDK runs in Truffle's interpreter (no JVMCI compiler):
   * recipes are short, so the warning about it is turned off.
   */
  private static Context newContext(Io io) {
    return Context.newBuilder("js")
        .out(io.out())
        .err(io.err())
        .in(io.in())
        .allowHostAccess(HostAccess.ALL)
        .allowHostClassLookup(JsRunner::lookupAllowed)
        .option("engine.WarnInterpreterOnly", "false")
        .build();
  }

  private static boolean lookupAllowed(String className) {
    return className.startsWith("io.qpatch.") || className.startsWith("java.");
  }

  private static Source load(Path script) {
    try {
      return Source.newBuilder("js", script.toFile()).build();
    } catch (IOException e) {
      throw new BadInputException(script + ": cannot read: " + e.getMessage());
    }
  }
}
