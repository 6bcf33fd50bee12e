package io.qpatch.js;

import io.qpatch.cli.Io;
import io.qpatch.cli.Main;
import io.qpatch.cli.ScriptEngineProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Entry point of qpatch-js.jar: the tool's own {@link Main}. The launcher's AOT training
 * run ({@code --aot-training}) also runs small .js recipes, so that the cache holds the
 * thousands of Truffle and GraalJS classes a recipe loads: a trivial recipe then starts
 * in about 0.45 s instead of about 3 s (2-core machine, JDK 25).
 */
public final class JsMain {
  private static final String TRAINING_ARGUMENT = "--aot-training";

  /**
   * The paths a recipe goes through: globals, host calls, formatting, exit, a qpatch error
   * (no process has that pid: pid_max is at most 2^22, proc(5)) and a syntax error.
   */
  private static final List<String> WORKLOAD = List.of(
      """
      const String = Java.type("java.lang.String");
      print(String.format("%s %d 0x%x", args[0], args.length, 4096));
      console.log(help().split("\\n").length);
      exit(3);
      """,
      "let n = 0;\nfor (const a of args) n += parseInt(a, 10);\nattach(999999999);\n",
      "this is not javascript\n");

  private JsMain() {}

  public static void main(String[] args) {
    Main.main(args);
    if (args.length == 1 && args[0].equals(TRAINING_ARGUMENT)) train();
  }

  private static void train() {
    PrintStream nowhere = new PrintStream(OutputStream.nullOutputStream());
    Io io = new Io(nowhere, nowhere, InputStream.nullInputStream());
    try {
      Path dir = Files.createTempDirectory("qpatch-js-training");
      for (int i = 0; i < WORKLOAD.size(); i++) {
        Path script = Files.writeString(dir.resolve("training" + i + ".js"), WORKLOAD.get(i));
        ScriptEngineProvider.forScript(script).orElseThrow().run(script, List.of("1", "2"), io);
        Files.delete(script);
      }
      Files.delete(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
