package io.qpatch.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * A parsed {@code gotrace} command line. Exactly one of {@code pid} (attach, {@code -p})
 * and {@code command} (launch PROGRAM ARGS...) is present.
 *
 * @param pid the process to attach to
 * @param command PROGRAM followed by its arguments, exactly as given; empty when attaching
 * @param output {@code -o FILE}: where trace lines go instead of stdout
 * @param demangle false with {@code -c}: print C++ names as mangled in the symbol table
 * @param filter {@code -f/--filter}: trace only functions whose name this finds
 * @param exclude {@code -x/--exclude}: never trace functions whose name this finds
 * @param returns {@code --returns}: also print a line per return, with the duration
 * @param args {@code --args}: raw registers, or names and values decoded from DWARF
 * @param format {@code --format}: seed-style text lines or JSON lines
 * @param chrome {@code --chrome FILE}: also write a Chrome Trace Event file
 * @param summary {@code --summary}: print a per-function table at exit
 * @param backend {@code --backend}; empty lets the engine choose
 * @param duration {@code --duration}: detach (attach) or stop tracing (launch) after this
 * @param lossy {@code --lossy}: the inproc backend drops calls when its ring is full instead
 *     of making the program wait for gotrace
 */
public record TraceOptions(
    OptionalInt pid,
    List<String> command,
    Optional<Path> output,
    boolean demangle,
    Optional<Pattern> filter,
    Optional<Pattern> exclude,
    boolean returns,
    ArgsMode args,
    OutputFormat format,
    Optional<Path> chrome,
    boolean summary,
    Optional<Backend> backend,
    Optional<Duration> duration,
    boolean lossy) {

  public TraceOptions {
    command = List.copyOf(command);
    Objects.requireNonNull(pid);
    if (pid.isPresent() == !command.isEmpty()) {
      throw new IllegalArgumentException("exactly one of pid and command must be given");
    }
  }

  /** Not {@code --lossy}. */
  public TraceOptions(OptionalInt pid, List<String> command, Optional<Path> output, boolean demangle,
      Optional<Pattern> filter, Optional<Pattern> exclude, boolean returns, ArgsMode args, OutputFormat format,
      Optional<Path> chrome, boolean summary, Optional<Backend> backend, Optional<Duration> duration) {
    this(pid, command, output, demangle, filter, exclude, returns, args, format, chrome, summary, backend, duration,
        false);
  }

  /** True when gotrace launches PROGRAM rather than attaching to a running process. */
  public boolean launches() {
    return pid.isEmpty();
  }

  /** {@code --args}. */
  public enum ArgsMode {
    RAW,
    DECODED
  }

  /** {@code --format}. */
  public enum OutputFormat {
    TEXT,
    JSON
  }

  /** {@code --backend}. */
  public enum Backend {
    PTRACE,
    UPROBE,
    INPROC
  }
}
