package io.qpatch.trace;

import java.io.PrintStream;
import java.util.List;
import java.util.Optional;

/**
 * How to trace.
 *
 * @param selection which functions, returns, demangling
 * @param backend "ptrace", "uprobe" or "inproc"; empty: uprobe when permitted, else ptrace
 * @param decodeArgs decode arguments from DWARF where present
 * @param sinks where events go (text, JSON, Chrome, summary)
 * @param messages where gotrace's own notes go (what is traced, what was lost)
 * @param lossy inproc only: drop calls when the ring is full rather than make the program
 *     wait for us to read
 */
public record TraceConfig(
    Selection selection,
    Optional<String> backend,
    boolean decodeArgs,
    List<EventSink> sinks,
    PrintStream messages,
    boolean lossy) {

  public TraceConfig {
    sinks = List.copyOf(sinks);
  }

  /** Not lossy: the program waits for us rather than lose calls. */
  public TraceConfig(Selection selection, Optional<String> backend, boolean decodeArgs, List<EventSink> sinks,
      PrintStream messages) {
    this(selection, backend, decodeArgs, sinks, messages, false);
  }
}
