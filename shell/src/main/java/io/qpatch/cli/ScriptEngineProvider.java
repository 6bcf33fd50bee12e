package io.qpatch.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * A runner for recipes in a language other than JShell's, found at run time with {@link
 * ServiceLoader} (a {@code META-INF/services/io.qpatch.cli.ScriptEngineProvider} entry). The
 * JS build (Maven profile {@code js}, module {@code shell-js}) provides one for {@code .js}
 * recipes through GraalVM Polyglot; the default jar has none, so nothing in it refers to
 * GraalVM.
 *
 * <p>A runner follows {@code qpatch run}'s policy: the facade's {@code attach}, {@code
 * launch}, {@code help} and {@code exit} as globals, the script's arguments as {@code args};
 * status n after {@code exit(n)}, 0 at the end of the script, 1 after one line {@code
 * SCRIPT:LINE: message} when a line fails.
 */
public interface ScriptEngineProvider {

  /** True when this runner runs {@code script} (decided by its file name). */
  boolean handles(Path script);

  /** Runs {@code script} to its end with {@code args}, printing to {@code io}; its exit status. */
  int run(Path script, List<String> args, Io io);

  /** The first provider on the class path that handles {@code script}, if any. */
  static Optional<ScriptEngineProvider> forScript(Path script) {
    return ServiceLoader.load(ScriptEngineProvider.class).stream()
        .map(ServiceLoader.Provider::get)
        .filter(p -> p.handles(script))
        .findFirst();
  }
}
