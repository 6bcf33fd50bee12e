package io.qpatch.trace;

/**
 * A way of catching probe hits. The session plans the probes; a backend plants them,
 * delivers each hit to a {@link HitConsumer}, and takes them out again leaving the
 * target as it was.
 *
 * <p>Three exist: {@link PtraceBackend} (int3 breakpoints answered by the tracer
 * thread), {@link UprobeBackend} (kernel uprobes sampled into perf ring buffers) and
 * {@link InProcBackend} (trampolines in the target writing to a ring buffer shared with
 * us). The contract asks nothing ptrace-specific.
 */
public interface Backend {
  /** "ptrace", "uprobe", "inproc". */
  String name();

  /**
   * Plants the probes of {@code plan}; from now on hits go to {@code consumer}. Sites the
   * backend cannot probe are returned with the reason (the rest are planted).
   */
  java.util.Map<ProbeSite, String> install(ProbePlan plan, HitConsumer consumer);

  /**
   * Delivers hits until {@link #requestStop()} or until the target has exited. Runs on
   * the caller's thread, or blocks it while the backend's thread does the work.
   */
  void run();

  /** From any thread (a signal handler, a timer): makes {@link #run()} return soon. */
  void requestStop();

  /**
   * Removes every probe. Hits already caught but not yet delivered are delivered first;
   * a thread caught on a probe being removed continues as if it had never been there.
   */
  void remove();

  /**
   * What the user should know of this trace once, after {@link #install}: what the
   * backend cannot show here and which backend can (one line each).
   */
  default java.util.List<String> notes() {
    return java.util.List.of();
  }

  /**
   * Probes {@code more} too (a library the program mapped after {@link #install}): soon,
   * or before returning; callable from any thread. False when this backend cannot add
   * probes while it runs.
   */
  default boolean addWhileRunning(ProbePlan more) {
    return false;
  }

  /**
   * True when the backend answers its probes through the session's ptrace attachment, which
   * must then stay for the whole trace (the session lets the process go after {@link
   * #install} otherwise, and a launched program runs on its own, collected as a child).
   */
  default boolean holdsTheTarget() {
    return false;
  }

  /** Counters for the end-of-trace report. */
  BackendStats stats();
}
