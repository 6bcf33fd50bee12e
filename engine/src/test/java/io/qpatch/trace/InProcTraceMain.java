package io.qpatch.trace;

import java.io.PrintStream;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A separate JVM for InProcBackendTest: traces PID's functions matching REGEX with the
 * inproc backend, one text line per call on stdout, until it is killed.
 */
public final class InProcTraceMain {
  private InProcTraceMain() {}

  public static void main(String[] args) {
    int pid = Integer.parseInt(args[0]);
    Selection sel = new Selection(Optional.of(Pattern.compile(args[1])), Optional.empty(), false, true);
    PrintStream out = new PrintStream(System.out, true);
    TextFormat text = new TextFormat(out, true);
    EventSink flushing = e -> {
      text.accept(e);
      text.flush();
    };
    TraceSession s = TraceSession.attach(pid, new TraceConfig(sel, Optional.of("inproc"), false, List.of(flushing), System.err));
    s.run();
  }
}
