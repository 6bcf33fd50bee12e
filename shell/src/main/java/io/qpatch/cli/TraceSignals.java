package io.qpatch.cli;

import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGINT (Ctrl-C) and SIGTERM while gotrace runs: the first ends the trace cleanly (the
 * session removes every probe and lets the process go, then gotrace exits normally); a
 * second one exits at once with 130 / 143 as a shell would report. The JVM's own handlers
 * (which would start shutdown halfway through a trace) are put back on close.
 *
 * <p>sun.misc.Signal (module jdk.unsupported) is the JDK's only way to handle a signal
 * without starting shutdown; a shutdown hook would run too late to keep a launched
 * program's exit status.
 */
final class TraceSignals implements AutoCloseable {
  private final SignalHandler previousInt;
  private final SignalHandler previousTerm;

  private TraceSignals(Runnable stop) {
    SignalHandler handler = new SignalHandler() {
      private boolean stopping;

      @Override
      public synchronized void handle(Signal signal) {
        if (stopping) Runtime.getRuntime().halt(128 + signal.getNumber());
        stopping = true;
        stop.run();
      }
    };
    previousInt = Signal.handle(new Signal("INT"), handler);
    previousTerm = Signal.handle(new Signal("TERM"), handler);
  }

  static TraceSignals install(Runnable stop) {
    return new TraceSignals(stop);
  }

  @Override
  public void close() {
    Signal.handle(new Signal("INT"), previousInt);
    Signal.handle(new Signal("TERM"), previousTerm);
  }
}
