package io.qpatch.fleet;

import java.util.List;

/**
 * What a fleet command did to one process.
 *
 * @param pid the process
 * @param command its name (/proc/PID/comm), "?" when it was gone
 * @param before the patch's state in it before: absent, loading, loaded, active, rolled back
 * @param after its state after (the same when nothing changed, or, in a dry run, what it would be)
 * @param changed whether the command changed it (would change it, in a dry run)
 * @param result how it ended
 * @param message why it failed, or what a dry run checked
 * @param functions the functions the patch takes over (or would), as "replace NAME (MODULE)"
 */
public record Outcome(int pid, String command, String before, String after, boolean changed, Result result,
    String message, List<String> functions) {
  public Outcome {
    functions = List.copyOf(functions);
  }

  public enum Result {
    /** Done, or already as wanted. */
    OK,
    /** Refused or failed; the process is as it was (every change is all or nothing). */
    FAILED,
    /** The process exited before or while the command ran: nothing is left to change. */
    EXITED
  }

  public boolean ok() {
    return result != Result.FAILED;
  }
}
