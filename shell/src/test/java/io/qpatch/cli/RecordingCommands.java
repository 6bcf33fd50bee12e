package io.qpatch.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A test seam behind {@link Commands}: records each call with its arguments, then
 * either throws the exception it was given (to exercise the error policy) or returns
 * {@link #status}.
 */
final class RecordingCommands implements Commands {
  final List<String> calls = new ArrayList<>();
  TraceOptions traced;
  RuntimeException failure;
  int status;

  static RecordingCommands failingWith(RuntimeException failure) {
    RecordingCommands commands = new RecordingCommands();
    commands.failure = failure;
    return commands;
  }

  private int record(String call) {
    calls.add(call);
    if (failure != null) {
      throw failure;
    }
    return status;
  }

  @Override
  public void patch(PatchAction action, Optional<Path> object, int pid) {
    record("patch " + action + " " + object.map(Path::toString).orElse("-") + " " + pid);
  }

  @Override
  public int fleet(FleetCommands.Request r) {
    return record("fleet " + r.action() + " " + r.object() + " " + r.selection() + (r.dryRun() ? " dry-run" : "")
        + (r.json() ? " json" : ""));
  }

  @Override
  public int status() {
    return record("status");
  }

  @Override
  public void apply(Path object, int pid) {
    record("apply " + object + " " + pid);
  }

  @Override
  public void info(int pid) {
    record("info " + pid);
  }

  @Override
  public void sym(int pid, List<String> names) {
    record("sym " + pid + " " + names);
  }

  @Override
  public int shell(OptionalInt pid) {
    return record("shell " + pid);
  }

  @Override
  public int run(Path script, List<String> args) {
    return record("run " + script + " " + args);
  }

  @Override
  public int trace(TraceOptions options) {
    traced = options;
    return record("trace");
  }
}
