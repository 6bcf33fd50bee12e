package io.qpatch.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/** The commands: each group is implemented by its own class, and this one routes to them. */
final class EngineCommands implements Commands {
  private final InspectCommands inspect;
  private final ScriptCommands scripts;
  private final PatchCommands patches;
  private final TraceCommands traces;
  private final Io io;

  EngineCommands(Io io) {
    this.io = io;
    this.inspect = new InspectCommands(io);
    this.scripts = new ScriptCommands(io);
    this.patches = new PatchCommands(io);
    this.traces = new TraceCommands(io);
  }

  @Override
  public void patch(PatchAction action, Optional<Path> object, int pid) {
    patches.patch(action, object, pid);
  }

  @Override
  public int fleet(FleetCommands.Request request) {
    return patches.fleet(request);
  }

  @Override
  public int status() {
    return new FleetCommands(io).status();
  }

  @Override
  public void apply(Path object, int pid) {
    patches.apply(object, pid);
  }

  @Override
  public void info(int pid) {
    inspect.info(pid);
  }

  @Override
  public void sym(int pid, List<String> names) {
    inspect.sym(pid, names);
  }

  @Override
  public int shell(OptionalInt pid) {
    return scripts.shell(pid);
  }

  @Override
  public int run(Path script, List<String> args) {
    return scripts.run(script, args);
  }

  @Override
  public int trace(TraceOptions options) {
    return traces.trace(options);
  }
}
