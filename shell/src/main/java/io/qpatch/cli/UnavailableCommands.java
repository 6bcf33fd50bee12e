package io.qpatch.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/** The commands of a build without the engine: each one says it is not available. */
final class UnavailableCommands implements Commands {

  @Override
  public void patch(PatchAction action, Optional<Path> object, int pid) {
    throw new NotYetAvailableException(action.verb() + " (" + action.flag() + ")");
  }

  @Override
  public int fleet(FleetCommands.Request request) {
    throw new NotYetAvailableException(request.action().name().toLowerCase(java.util.Locale.ROOT) + " on several processes");
  }

  @Override
  public int status() {
    throw new NotYetAvailableException("status");
  }

  @Override
  public void apply(Path object, int pid) {
    throw new NotYetAvailableException("apply");
  }

  @Override
  public void info(int pid) {
    throw new NotYetAvailableException("info");
  }

  @Override
  public void sym(int pid, List<String> names) {
    throw new NotYetAvailableException("sym");
  }

  @Override
  public int shell(OptionalInt pid) {
    throw new NotYetAvailableException("shell");
  }

  @Override
  public int run(Path script, List<String> args) {
    throw new NotYetAvailableException("run");
  }

  @Override
  public int trace(TraceOptions options) {
    throw new NotYetAvailableException("tracing");
  }
}
