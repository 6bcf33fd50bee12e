package io.qpatch.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** tracefs uprobe events as gotrace defines, reads and removes them. */
class UprobeEventsTest {
  private static final Path DEFINITIONS = UprobeEvents.TRACEFS.resolve("uprobe_events");

  @Test
  void a_format_file_gives_each_fetch_argument_its_offset() {
    String format = """
        name: p0
        ID: 2326
        format:
        	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
        	field:int common_pid;	offset:4;	size:4;	signed:1;

        	field:unsigned long __probe_ip;	offset:8;	size:8;	signed:0;
        	field:s64 goid;	offset:16;	size:8;	signed:1;
        	field:u8 c0[];	offset:24;	size:64;	signed:0;
        	field:u64 c1;	offset:88;	size:8;	signed:0;
        """;
    Map<String, Integer> at = UprobeEvents.offsets(format);
    assertEquals(16, at.get("goid"));
    assertEquals(24, at.get("c0"));
    assertEquals(88, at.get("c1"));
  }

  @Test
  void captures_are_written_as_tracefs_fetch_arguments() {
    assertEquals("c0=+0(%ax):u8[64]", Capture.at(SampleRegs.AX, 0, 100).fetchArg("c0"));
    assertEquals("c1=+8(%r9):u64", Capture.at(SampleRegs.R9, 8, 8).fetchArg("c1"));
    assertEquals("c2=+0(+24(%sp)):u8[64]", Capture.through(SampleRegs.SP, 24, 0, 64).fetchArg("c2"));
  }

  /** A group whose JVM is gone (a gotrace SIGKILLed) is removed by the next one; others stay. */
  @Test
  void groups_of_dead_gotraces_are_removed_and_live_ones_kept() throws Exception {
    assertNull(UprobeEvents.unavailableReason(), "tracefs with uprobe events (root)");
    Path prog = Fixtures.c("events", "int main(void) { return 0; }\n", "-O1");
    long dead = deadPid();
    String abandoned = "qpatch_" + dead + "_1";
    Files.writeString(DEFINITIONS, "p:" + abandoned + "/p0 " + prog + ":0x0\n", StandardOpenOption.APPEND);
    String group;
    try (UprobeEvents mine = new UprobeEvents()) {
      group = mine.group();
      UprobeEvents.Event e = mine.define("p0", prog.toString(), 0, List.of());
      assertTrue(e.id() > 0);
      UprobeEvents.removeAbandoned();
      String now = Files.readString(DEFINITIONS);
      assertFalse(now.contains(abandoned + "/"), now);
      assertTrue(now.contains(group + "/p0 "), now);
    }
    assertFalse(Files.readString(DEFINITIONS).contains(group + "/"), "closing removes our own");
  }

  private static long deadPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    return p.pid();
  }
}
