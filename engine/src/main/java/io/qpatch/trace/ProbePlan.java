package io.qpatch.trace;

import java.util.List;
import java.util.Map;

/**
 * What to probe in one executable: its functions as the trace names them, every probe
 * site, and the functions left out with the reason.
 *
 * @param executable path of the executable file (uprobes are placed in the file)
 * @param loadBias run-time address minus link-time address (0 unless PIE)
 * @param functions the traced functions, indexed by {@link TracedFunction#id()}
 * @param sites every breakpoint to plant
 * @param skipped functions that matched the selection but cannot be probed, with why
 * @param goidOffset offset of {@code goid} in Go's {@code runtime.g}, or -1 (not Go)
 * @param gTlsOffset where g is relative to the fs base ({@link
 *     io.qpatch.trace.go.GoBinary#gTlsOffset}), or {@link #NO_TLS}
 * @param description one line for the user: language, version, what is traced
 * @param argDecoder decodes arguments from DWARF ({@code --args=decoded}); null: raw only
 * @param threadId where a Go thread finds its own thread id in memory (g.m.procid); null
 *     when unknown (not Go, or no DWARF)
 */
public record ProbePlan(
    String executable,
    long loadBias,
    List<TracedFunction> functions,
    List<ProbeSite> sites,
    Map<String, String> skipped,
    long goidOffset,
    long gTlsOffset,
    String description,
    ArgDecoder argDecoder,
    GoThreadId threadId) {

  /** No known TLS slot of g. */
  public static final long NO_TLS = Long.MIN_VALUE;

  public ProbePlan {
    functions = List.copyOf(functions);
    sites = List.copyOf(sites);
    skipped = Map.copyOf(skipped);
  }

  ProbePlan withDecoder(ArgDecoder decoder) {
    return new ProbePlan(executable, loadBias, functions, sites, skipped, goidOffset, gTlsOffset, description, decoder,
        threadId);
  }

  /**
   * The running thread's id in Go's runtime: {@code g.m} at {@code gToM} in runtime.g,
   * {@code m.procid} at {@code mToProcid} in runtime.m (runtime/runtime2.go; procid is set
   * by minit, 0 before).
   */
  public record GoThreadId(long gToM, long mToProcid) {}

  /** This plan and {@code library}'s (numbered after this one's functions) as one. */
  ProbePlan with(ProbePlan library) {
    List<TracedFunction> fs = new java.util.ArrayList<>(functions);
    fs.addAll(library.functions());
    List<ProbeSite> ss = new java.util.ArrayList<>(sites);
    ss.addAll(library.sites());
    Map<String, String> sk = new java.util.LinkedHashMap<>(skipped);
    sk.putAll(library.skipped());
    ArgDecoder d = argDecoder == null ? library.argDecoder() : library.argDecoder() == null ? argDecoder
        : argDecoder.with(library.argDecoder());
    return new ProbePlan(executable, loadBias, fs, ss, sk, goidOffset, gTlsOffset, description, d, threadId);
  }

  /** The same plan described as {@code text}. */
  ProbePlan described(String text) {
    return new ProbePlan(executable, loadBias, functions, sites, skipped, goidOffset, gTlsOffset, text, argDecoder,
        threadId);
  }

  public boolean isGo() {
    return goidOffset >= 0;
  }
}
