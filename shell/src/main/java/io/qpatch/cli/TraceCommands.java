package io.qpatch.cli;

import io.qpatch.error.BadInputException;
import io.qpatch.trace.ChromeTrace;
import io.qpatch.trace.EventSink;
import io.qpatch.trace.JsonFormat;
import io.qpatch.trace.Selection;
import io.qpatch.trace.Summary;
import io.qpatch.trace.TextFormat;
import io.qpatch.trace.TraceConfig;
import io.qpatch.trace.TraceSession;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * {@code gotrace}: builds a {@link TraceSession} from the parsed options and runs it,
 * with the trace on stdout (or {@code -o FILE}) and gotrace's own notes on stderr.
 *
 * <p>Ctrl-C and SIGTERM ({@link TraceSignals}) end the trace: every probe is removed and
 * the process let go. An attached process runs on and gotrace exits 0; a launched program
 * runs on untraced and gotrace still waits for it and exits with its status (a Ctrl-C at
 * a terminal reaches the program too, which usually ends it); a second Ctrl-C leaves at
 * once. {@code --duration} ends the trace the same way.

 */
final class TraceCommands {
  private static final long FLUSH_MILLIS = 200;

  private final Io io;

  TraceCommands(Io io) {
    this.io = io;
  }

  int trace(TraceOptions options) {
    try (PrintStream out = traceStream(options.output())) {
      List<EventSink> sinks = sinks(options, out);
      boolean timed = options.returns() || options.chrome().isPresent() || options.summary();
      Selection selection = new Selection(options.filter(), options.exclude(), timed, options.demangle());
      TraceConfig config = new TraceConfig(selection,
          options.backend().map(b -> b.name().toLowerCase(java.util.Locale.ROOT)),
          options.args() == TraceOptions.ArgsMode.DECODED, sinks, io.err(), options.lossy());
      TraceSession session = options.launches()
          ? TraceSession.launch(options.command(), config)
          : TraceSession.attach(options.pid().getAsInt(), config);
      return runWithSignals(session, options);
    }
  }

  @SuppressWarnings("try") // the handlers are installed for the body and removed by close()
  private int runWithSignals(TraceSession session, TraceOptions options) {
    Thread flusher = Thread.ofPlatform().daemon().name("gotrace-flush").start(() -> flushEvery(session));
    try (TraceSignals signals = TraceSignals.install(session::stop)) {
      options.duration().ifPresent(d -> Thread.ofPlatform().daemon().name("gotrace-duration")
          .start(() -> stopAfter(session, d.toMillis())));
      return session.run();
    } finally {
      flusher.interrupt();
    }
  }

  private static void flushEvery(TraceSession session) {
    try {
      while (true) {
        Thread.sleep(FLUSH_MILLIS);
        session.flush();
      }
    } catch (InterruptedException e) {
      // the trace is over
    }
  }

  private static void stopAfter(TraceSession session, long millis) {
    try {
      Thread.sleep(millis);
      session.stop();
    } catch (InterruptedException e) {
      // the trace ended first
    }
  }

  private List<EventSink> sinks(TraceOptions options, PrintStream out) {
    boolean returns = options.returns();
    List<EventSink> sinks = new ArrayList<>();
    sinks.add(options.format() == TraceOptions.OutputFormat.JSON
        ? new JsonFormat(out, returns) : new TextFormat(out, returns));
    options.chrome().ifPresent(path -> sinks.add(new ChromeTrace(writer(path))));
    if (options.summary()) sinks.add(new Summary(out));
    return sinks;
  }

  /**
   * The trace's stream: {@code -o FILE}, or stdout through our own 64 KiB buffer (System.out
   * flushes at every line, a write per traced call); a timer flushes it every 200 ms.
   */
  private PrintStream traceStream(Optional<Path> file) {
    try {
      OutputStream raw;
      if (file.isPresent()) raw = Files.newOutputStream(file.get());
      else if (io.out() == System.out) raw = new FileOutputStream(FileDescriptor.out);
      else return new PrintStream(io.out(), false, StandardCharsets.UTF_8) {
        @Override
        public void close() {
          flush(); // never close the caller's stream
        }
      };
      return new PrintStream(new BufferedOutputStream(raw, 1 << 16), false, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new BadInputException("cannot write " + file.orElseThrow() + ": " + e.getMessage());
    }
  }

  private static java.io.Writer writer(Path path) {
    try {
      return Files.newBufferedWriter(path);
    } catch (IOException e) {
      throw new BadInputException("cannot write the Chrome trace " + path + ": " + e.getMessage());
    }
  }








}
