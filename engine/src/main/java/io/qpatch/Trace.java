package io.qpatch;

import io.qpatch.proc.Target;
import io.qpatch.trace.EventSink;
import io.qpatch.trace.Selection;
import io.qpatch.trace.Summary;
import io.qpatch.trace.TextFormat;
import io.qpatch.trace.TraceConfig;
import io.qpatch.trace.TraceEvent;
import io.qpatch.trace.TraceSession;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * A trace of an attached process's own functions (gotrace in a script), made by {@link
 * TargetProcess#trace}: say what to trace and what to do per event, then run it for a
 * while; the summary table is kept.
 *
 * <pre>{@code
 * p.trace("main\\..*").returns().forSeconds(5).summary()
 * p.trace("^work").onEvent(e -> n[0]++).until(() -> n[0] > 1000)
 * }</pre>
 *
 * <p>Always the ptrace backend (the uprobe backend would have to let go of the process,
 * which the script holds): probes are int3 breakpoints answered by the tracer thread. When
 * a run ends the probes are taken out and the process runs on, still attached. Functions
 * are those of the main executable (C, C++ or Go), named as gotrace names them. Callbacks
 * run on the script's thread, which waits for the trace meanwhile; one that throws is
 * reported once and counted, and the trace goes on.
 */
public final class Trace {
  private final TargetProcess process;
  private final Pattern filter;
  private Optional<Pattern> exclude = Optional.empty();
  private boolean returns;
  private boolean print;
  private final List<Consumer<TraceEvent>> callbacks = new ArrayList<>();
  private final Failures failures;
  private Summary summary = new Summary();

  Trace(TargetProcess process, String filterRegex) {
    this.process = process;
    this.filter = Pattern.compile(filterRegex);
    this.failures = new Failures("trace(" + filterRegex + ")");
  }

  /** Also probes returns: events for them, and times in the summary. */
  public Trace returns() {
    returns = true;
    return this;
  }

  /** Leaves out the functions whose name {@code regex} finds. */
  public Trace exclude(String regex) {
    exclude = Optional.of(Pattern.compile(regex));
    return this;
  }

  /** Runs {@code callback} for every call (and return) event, on the script's thread. */
  public Trace onEvent(Consumer<TraceEvent> callback) {
    callbacks.add(callback);
    return this;
  }

  /** Prints every event on stdout as gotrace does, one line each. */
  public Trace print() {
    print = true;
    return this;
  }

  /**
   * Traces for {@code seconds} from when the probes are planted (or until the process
   * exits); returns when they are out again.
   */
  public Trace forSeconds(double seconds) {
    return run((long) (seconds * 1e9), () -> false);
  }

  /**
   * Traces until {@code done} is true (asked every 10 ms, on the script's thread like the
   * callbacks; a {@code done} that throws ends the trace) or the process exits; returns
   * when the probes are out again.
   */
  public Trace until(BooleanSupplier done) {
    return run(Long.MAX_VALUE, done);
  }

  /** Plants, traces and removes on a helper thread, while this one runs the callbacks. */
  private Trace run(long nanos, BooleanSupplier done) {
    Summary table = new Summary();
    Target target = process.beforeTrace();
    TraceConfig config = config(table);
    try {
      process.callbacks().serve(() -> trace(target, config, nanos, done));
    } finally {
      summary = table;
      failures.reportRest();
    }
    return this;
  }

  private void trace(Target target, TraceConfig config, long nanos, BooleanSupplier done) {
    TraceSession session = TraceSession.on(target, config);
    long start = System.nanoTime();
    Thread watcher = Thread.ofPlatform().daemon().name("qpatch-trace-until").start(() -> {
      try {
        while (System.nanoTime() - start < nanos && !ask(done)) Thread.sleep(10);
        session.stop();
      } catch (InterruptedException e) {
        // the trace ended first (the process exited)
      }
    });
    try {
      session.run();
    } finally {
      watcher.interrupt();
    }
  }

  private boolean ask(BooleanSupplier done) {
    boolean[] answer = {false};
    process.callbacks().run(() -> {
      try {
        answer[0] = done.getAsBoolean();
      } catch (RuntimeException e) {
        failures.add(e);
        answer[0] = true;
      }
    });
    return answer[0];
  }

  /**
   * The last run's table: calls, total and mean time per function (times with {@link
   * #returns()}); printing it prints the table, {@code rows()} gives the numbers.
   */
  public Summary summary() {
    return summary;
  }

  /** How many event callbacks threw. */
  public long failures() {
    return failures.count();
  }

  private TraceConfig config(Summary table) {
    List<EventSink> sinks = new ArrayList<>();
    sinks.add(table);
    if (print) sinks.add(new TextFormat(System.out, returns));
    if (!callbacks.isEmpty()) sinks.add(this::deliver);
    Selection selection = new Selection(Optional.of(filter), exclude, returns, true);
    return new TraceConfig(selection, Optional.of("ptrace"), false, sinks, System.err);
  }

  private void deliver(TraceEvent e) {
    process.callbacks().run(() -> {
      for (Consumer<TraceEvent> f : callbacks) failures.guard(f, e);
    });
  }

  /** The filter, and whether returns are traced. */
  @Override
  public String toString() {
    return "trace(" + filter + (returns ? ", returns" : "") + ")";
  }
}
