package io.qpatch.cli;

import io.qpatch.Processes;
import io.qpatch.Qpatch;
import io.qpatch.fleet.Fleet;
import io.qpatch.fleet.FleetReport;
import io.qpatch.fleet.Outcome;
import io.qpatch.fleet.ProcessSelection;
import io.qpatch.patch.PatchOptions;
import io.qpatch.patch.PatchStatus;
import io.qpatch.trace.Json;
import java.nio.file.Path;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The patch commands on a selection of processes ({@code -p 1,2}, {@code --exe},
 * {@code --lib}, {@code --dry-run}, {@code --json}) over the facade's {@link Processes},
 * and {@code qpatch status}. One line per process as it is done, then a summary; or
 * one JSON object per process and a summary object.
 */
final class FleetCommands {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());
  private final Io io;

  FleetCommands(Io io) {
    this.io = io;
  }

  /** What a fleet command was asked. */
  record Request(Fleet.Action action, Path object, ProcessSelection selection, boolean dryRun, boolean json) {}

  /** Runs {@code r}; 0 when every selected process ended as asked, else 1. */
  int run(Request r, PatchOptions options) {
    Processes p = Qpatch.processes(r.selection()).options(options).onEach(o -> print(r, o));
    if (r.dryRun()) p.dryRun();
    FleetReport report = p.run(r.action(), r.object().toString());
    if (r.json()) io.out().println(jsonSummary(report));
    else io.out().println(summary(report));
    io.out().flush();
    return report.allOk() ? Cli.EXIT_OK : Cli.EXIT_ERROR;
  }

  private void print(Request r, Outcome o) {
    io.out().println(r.json() ? json(o) : line(r, o));
    io.out().flush();
  }

  /** The single-process commands' lines for a change; the process named first otherwise. */
  static String line(Request r, Outcome o) {
    String patch = r.object().getFileName().toString();
    String who = "pid " + o.pid() + " (" + o.command() + "): ";
    return switch (o.result()) {
      case FAILED -> who + "failed: " + o.message();
      case EXITED -> who + "exited, nothing to " + words(r.action()).verb();
      case OK -> !o.changed() ? who + patch + " " + o.message()
          : r.dryRun() ? who + "would " + words(r.action()).verb() + " " + patch + PatchCommands.functions(o.functions())
              + " (" + o.message() + ")"
          : done(patch, o);
    };
  }

  private static String done(String patch, Outcome o) {
    return switch (o.after()) {
      case "loaded" -> PatchCommands.loadedLine(patch, o.pid(), o.functions());
      case "active" -> PatchCommands.activatedLine(patch, o.pid(), o.functions());
      default -> "rolled back " + patch + " in pid " + o.pid() + (o.message().isEmpty() ? "" : "; " + o.message());
    };
  }

  /** An action in words: what a process's line says it would do, what the summary says was done. */
  private record Words(String verb, String done) {}

  private static Words words(Fleet.Action a) {
    return switch (a) {
      case LOAD -> new Words("load", "loaded");
      case ACTIVATE -> new Words("activate", "activated");
      case APPLY -> new Words("apply", "applied");
      case ROLLBACK -> new Words("roll back", "rolled back");
      case QUERY -> new Words("query", "queried");
    };
  }

  /** "applied cpatch.o in 3 of 4 processes; 1 already active; 1 failed: pid 12" and the like. */
  static String summary(FleetReport r) {
    int n = r.outcomes().size();
    if (n == 0) return "no process selected";
    String done = words(r.action()).done();
    StringBuilder s = new StringBuilder(r.dryRun() ? "dry run: would change " + r.changed() + " of " + n + " processes"
        : r.action() == Fleet.Action.QUERY ? "queried " + r.patch() + " in " + n + " processes"
        : done + " " + r.patch() + " in " + r.changed() + " of " + n + " processes");
    if (r.unchanged() > 0 && r.action() != Fleet.Action.QUERY) s.append("; ").append(r.unchanged()).append(" already as wanted");
    if (!r.failed().isEmpty()) s.append("; ").append(r.failed().size()).append(" failed: ").append(pids(r.failed()));
    if (!r.exited().isEmpty()) s.append("; ").append(r.exited().size()).append(" exited: ").append(pids(r.exited()));
    return s.toString();
  }

  private static String pids(List<Outcome> os) {
    return os.stream().map(o -> "pid " + o.pid()).collect(Collectors.joining(", "));
  }

  static String json(Outcome o) {
    StringBuilder s = new StringBuilder("{\"pid\":").append(o.pid()).append(",\"command\":");
    Json.quote(s, o.command()).append(",\"before\":");
    Json.quote(s, o.before()).append(",\"after\":");
    Json.quote(s, o.after()).append(",\"changed\":").append(o.changed()).append(",\"result\":");
    Json.quote(s, o.result().name().toLowerCase(java.util.Locale.ROOT)).append(",\"msg\":");
    Json.quote(s, o.message()).append(",\"functions\":[");
    for (int i = 0; i < o.functions().size(); i++) {
      if (i > 0) s.append(',');
      Json.quote(s, o.functions().get(i));
    }
    return s.append("]}").toString();
  }

  static String jsonSummary(FleetReport r) {
    StringBuilder s = new StringBuilder("{\"summary\":{\"action\":");
    Json.quote(s, r.action().name().toLowerCase(java.util.Locale.ROOT)).append(",\"patch\":");
    Json.quote(s, r.patch()).append(",\"dry_run\":").append(r.dryRun())
        .append(",\"selected\":").append(r.outcomes().size()).append(",\"changed\":").append(r.changed())
        .append(",\"unchanged\":").append(r.unchanged()).append(",\"failed\":").append(r.failed().size())
        .append(",\"exited\":").append(r.exited().size()).append(",\"ok\":").append(r.allOk());
    return s.append("}}").toString();
  }

  /** {@code qpatch status}: every process of this host that carries a patch, one line per patch. */
  int status() {
    io.out().printf("%-8s %-16s %-28s %-12s %s%n", "PID", "COMMAND", "PATCH", "STATE", "SINCE");
    int shown = 0;
    for (Fleet.Carrier c : Qpatch.patchedProcesses()) {
      if (c.problem() != null) io.out().printf("%-8d %-16s %s%n", c.pid(), c.command(), "cannot read its patches: " + c.problem());
      for (PatchStatus s : c.patches()) {
        io.out().printf("%-8d %-16s %-28s %-12s %s%n", c.pid(), c.command(), s.name(),
            s.state().name().toLowerCase(java.util.Locale.ROOT), TIME.format(s.loadedAt()));
        shown++;
      }
    }
    if (shown == 0) io.err().println("qpatch: no process on this host carries a qpatch patch");
    return Cli.EXIT_OK;
  }
}
