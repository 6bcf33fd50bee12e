package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.sys.UnixDatagram;
import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The patch commands on several processes, through the CLI, on live processes: three of
 * one executable, one of a byte-identical copy of it elsewhere (another file: --exe must
 * not take it), all four mapping one library (--lib takes them all). Dry run, JSON, the
 * system log, idempotence, status, a failure and an exited pid among the selected.
 */
class FleetPatchTest {
  static final String LIBRARY = """
      __attribute__((noipa)) int value(void) { return 1; }
      """;

  static final String PROGRAM = """
      #include <stdio.h>
      #include <unistd.h>
      int value(void);
      int main(void) {
        setvbuf(stdout, 0, _IOLBF, 0);
        for (;;) {
          printf("value=%d\\n", value());
          usleep(20000);
        }
      }
      """;

  static final String PATCH = "int value(void) { return 2; }\n";

  @TempDir Path tmp;

  @Test
  void a_fleet_is_checked_patched_logged_listed_and_rolled_back_each_process_all_or_nothing() throws Exception {
    Path lib = Fixtures.c("libfleet.so", LIBRARY, "-O2", "-shared", "-fPIC");
    Path exe = Fixtures.c("fleet-target", PROGRAM, "-O2", "-Wl,--no-as-needed", lib.toString(),
        "-Wl,-rpath," + lib.getParent());
    Path copy = tmp.resolve("fleet-copy");
    Files.copy(exe, copy);
    copy.toFile().setExecutable(true);
    Path patch = Fixtures.object("fleet-patch", PATCH, "-O2");
    Path log = tmp.resolve("log.sock");
    List<LiveProcess> procs = new ArrayList<>();
    try (UnixDatagram syslog = UnixDatagram.bound(log.toString())) {
      System.setProperty("qpatch.syslog", log.toString());
      for (int i = 0; i < 3; i++) procs.add(LiveProcess.start(tmp.resolve("out" + i), exe.toString()));
      LiveProcess other = LiveProcess.start(tmp.resolve("out-copy"), copy.toString());
      procs.add(other);
      for (LiveProcess p : procs) p.awaitOutput(o -> o.contains("value=1\n"), Duration.ofSeconds(10));
      List<LiveProcess> ours = procs.subList(0, 3);

      CliRun dry = qpatch("apply", "-o", patch.toString(), "--exe", exe.toString(), "--dry-run");
      assertEquals(0, dry.exit(), dry.err());
      for (LiveProcess p : ours) {
        assertTrue(dry.out().contains("pid " + p.pid() + " (fleet-target): would apply fleet-patch.o: replace value (libfleet.so)"),
            dry.out());
      }
      assertFalse(dry.out().contains("pid " + other.pid()), "a copy of the executable is another file: " + dry.out());
      assertTrue(dry.out().endsWith("dry run: would change 3 of 3 processes\n"), dry.out());
      for (LiveProcess p : procs) assertFalse(Files.readString(Path.of("/proc/" + p.pid() + "/maps")).contains("qpatch"), "dry run wrote nothing");

      CliRun applied = qpatch("apply", "-o", patch.toString(), "--exe", exe.toString(), "--json");
      assertEquals(0, applied.exit(), applied.err());
      List<String> lines = applied.out().lines().toList();
      assertEquals(4, lines.size(), applied.out());
      for (LiveProcess p : ours) {
        assertTrue(lines.contains("{\"pid\":" + p.pid() + ",\"command\":\"fleet-target\",\"before\":\"absent\",\"after\":\"active\","
            + "\"changed\":true,\"result\":\"ok\",\"msg\":\"\",\"functions\":[\"replace value (libfleet.so)\"]}"), applied.out());
        awaitAfter(p, "value=2\n");
      }
      assertEquals("{\"summary\":{\"action\":\"apply\",\"patch\":\"fleet-patch.o\",\"dry_run\":false,\"selected\":3,"
          + "\"changed\":3,\"unchanged\":0,\"failed\":0,\"exited\":0,\"ok\":true}}", lines.getLast());
      List<String> logged = new ArrayList<>();
      for (int i = 0; i < 3; i++) logged.add(receive(syslog));
      for (LiveProcess p : ours) {
        assertTrue(logged.stream().anyMatch(l -> l.startsWith("<13>") && l.contains(" pid=" + p.pid() + " comm=fleet-target patch=fleet-patch.o sha256=")
            && l.contains(" before=absent after=active")), logged.toString());
      }
      assertTrue(other.awaitOutput(o -> o.endsWith("value=1\n"), Duration.ofSeconds(5)).endsWith("value=1\n"), "the copy untouched");

      CliRun again = qpatch("apply", "-o", patch.toString(), "--exe", exe.toString());
      assertEquals(0, again.exit(), again.err());
      assertTrue(again.out().endsWith("applied fleet-patch.o in 0 of 3 processes; 3 already as wanted\n"), again.out());

      CliRun status = qpatch("status");
      assertEquals(0, status.exit(), status.err());
      for (LiveProcess p : ours) {
        assertTrue(status.out().lines().anyMatch(l -> l.matches(p.pid() + " +fleet-target +fleet-patch.o +active +\\d{4}-.*")), status.out());
      }
      assertFalse(status.out().contains(other.pid() + " "), status.out());

      CliRun query = qpatch("-o", patch.toString(), "--lib", "libfleet.so", "-q");
      assertEquals(0, query.exit(), query.err());
      for (LiveProcess p : procs) assertTrue(query.out().contains("pid " + p.pid() + " "), "--lib selects every process mapping it: " + query.out());
      assertTrue(query.out().contains("pid " + other.pid() + " (fleet-copy): fleet-patch.o absent"), query.out());

      int gone = exitedPid();
      CliRun mixed = qpatch("-o", patch.toString(), "-p", other.pid() + "," + ours.get(0).pid(), "-p", "" + gone, "-a");
      assertEquals(1, mixed.exit(), "one process failed: " + mixed.out());
      assertTrue(mixed.out().contains("pid " + other.pid() + " (fleet-copy): failed: fleet-patch.o is not loaded in pid " + other.pid()), mixed.out());
      assertTrue(mixed.out().contains("pid " + ours.get(0).pid() + " (fleet-target): fleet-patch.o already active"), mixed.out());
      assertTrue(mixed.out().contains("pid " + gone + " (?): exited, nothing to activate"), mixed.out());
      assertTrue(mixed.out().endsWith("activated fleet-patch.o in 0 of 3 processes; 1 already as wanted; 1 failed: pid "
          + other.pid() + "; 1 exited: pid " + gone + "\n"), mixed.out());

      CliRun back = qpatch("-o", patch.toString(), "--exe", exe.toString(), "--exe", copy.toString(), "-r");
      assertEquals(0, back.exit(), back.err());
      assertTrue(back.out().endsWith("rolled back fleet-patch.o in 3 of 4 processes; 1 already as wanted\n"), back.out());
      for (LiveProcess p : ours) awaitAfter(p, "value=1\n");
      for (int i = 0; i < 3; i++) assertTrue(receive(syslog).contains(" before=active after=absent"));
      for (LiveProcess p : procs) assertTrue(p.isAlive(), p.output());
    } finally {
      System.clearProperty("qpatch.syslog");
      for (LiveProcess p : procs) p.close();
    }
  }

  private static CliRun qpatch(String... args) {
    String[] argv = new String[args.length + 1];
    argv[0] = "qpatch";
    System.arraycopy(args, 0, argv, 1, args.length);
    return CliRun.of(Commands::forThisBuild, argv);
  }

  /** The next datagram logged, failing (not hanging) when none comes within 10 s. */
  private static String receive(UnixDatagram syslog) throws Exception {
    return java.util.concurrent.CompletableFuture.supplyAsync(() -> new String(syslog.receive(2048), StandardCharsets.UTF_8))
        .get(10, java.util.concurrent.TimeUnit.SECONDS);
  }

  /** A pid that was a process a moment ago: a child started and reaped. */
  private static int exitedPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    return (int) p.pid();
  }

  private static void awaitAfter(LiveProcess p, String text) {
    int from = p.output().length();
    p.awaitOutput(o -> o.indexOf(text, from) >= 0, Duration.ofSeconds(10));
  }
}
