package io.qpatch.fleet;

import java.util.List;

/**
 * A fleet command's outcomes, one per selected process in pid order.
 *
 * @param action what was asked
 * @param patch the patch object's file name
 * @param dryRun nothing was written
 */
public record FleetReport(Fleet.Action action, String patch, boolean dryRun, List<Outcome> outcomes) {
  public FleetReport {
    outcomes = List.copyOf(outcomes);
  }

  public long changed() {
    return outcomes.stream().filter(o -> o.changed() && o.ok()).count();
  }

  public long unchanged() {
    return outcomes.stream().filter(o -> !o.changed() && o.result() == Outcome.Result.OK).count();
  }

  public List<Outcome> failed() {
    return outcomes.stream().filter(o -> o.result() == Outcome.Result.FAILED).toList();
  }

  public List<Outcome> exited() {
    return outcomes.stream().filter(o -> o.result() == Outcome.Result.EXITED).toList();
  }

  /** Every selected process ended as asked (an exited one has nothing left to change). */
  public boolean allOk() {
    return failed().isEmpty();
  }
}
