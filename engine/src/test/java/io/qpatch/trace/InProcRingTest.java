package io.qpatch.trace;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class InProcRingTest {
  private static final long CAPACITY = 32;

  @Test
  void record_is_128_bytes_with_the_fields_the_trampoline_writes_at_their_offsets() {
    assertEquals(128, InProcRing.RECORD.byteSize());
    long[] expected = {0, 8, 12, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120};
    String[] fields = {"seq", "site", "tid", "tsc", "goid", "ax", "bx", "cx", "dx", "si", "di", "r8", "r9",
        "r10", "r11", "r14", "sp"};
    for (int i = 0; i < fields.length; i++) {
      assertEquals(expected[i], InProcRing.offset(InProcRing.RECORD, fields[i]), fields[i]);
    }
  }

  @Test
  void header_keeps_head_tail_lost_and_the_deadline_on_cache_lines_of_their_own_within_one_page() {
    assertEquals(0, InProcRing.offset(InProcRing.HEADER, "head"));
    assertEquals(64, InProcRing.offset(InProcRing.HEADER, "tail"));
    assertEquals(128, InProcRing.offset(InProcRing.HEADER, "lost"));
    assertEquals(192, InProcRing.offset(InProcRing.HEADER, "magic"));
    assertEquals(200, InProcRing.offset(InProcRing.HEADER, "capacity"));
    assertEquals(256, InProcRing.offset(InProcRing.HEADER, "scratch"));
    assertEquals(2304, InProcRing.offset(InProcRing.HEADER, "deadline")); // after a 256-byte scratch: the XMM record
    assertEquals(128, InProcRing.RECORD_BYTES);
    assertEquals(256, InProcRing.RECORD_WITH_XMM_BYTES);
    assertEquals(128, InProcRing.offset(InProcRing.RECORD_WITH_XMM, "x0"));
    assertTrue(InProcRing.HEADER.byteSize() <= InProcRing.HEADER_BYTES);
    assertEquals(4096 + 32 * 128, InProcRing.fileSize(CAPACITY, InProcRing.RECORD_BYTES));
  }

  @Test
  void drain_reads_published_records_in_ticket_order_and_stops_at_the_first_unpublished() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment file = arena.allocate(InProcRing.fileSize(CAPACITY, InProcRing.RECORD_BYTES), 64);
      InProcRing ring = new InProcRing(file, CAPACITY, InProcRing.Shape.PLAIN);
      publish(file, 0, 5, 1001, 0x41);
      publish(file, 1, 6, 1002, 0x42);
      reserve(file, 3); // ticket 2 reserved, not yet published; ticket 3 is
      publish(file, 3, 7, 1003, 0x43);
      List<InProcRing.Record> out = new ArrayList<>();
      assertEquals(2, ring.drain(out, 100));
      assertEquals(List.of(5, 6), out.stream().map(InProcRing.Record::site).toList());
      assertEquals(0x42, out.get(1).regs()[SampleRegs.DI]);
      assertEquals(1002, out.get(1).tid());
      long tailAt = InProcRing.offset(InProcRing.HEADER, "tail");
      assertEquals(0, file.get(JAVA_LONG, tailAt), "slots read are still the reader's until released");
      ring.release();
      assertEquals(2, file.get(JAVA_LONG, tailAt), "tail published");
      publish(file, 2, 8, 1004, 0x44);
      out.clear();
      assertEquals(2, ring.drain(out, 100));
      assertEquals(List.of(8, 7), out.stream().map(InProcRing.Record::site).toList());
    }
  }

  @Test
  void a_slot_still_holding_the_previous_lap_is_not_read_again() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment file = arena.allocate(InProcRing.fileSize(CAPACITY, InProcRing.RECORD_BYTES), 64);
      InProcRing ring = new InProcRing(file, CAPACITY, InProcRing.Shape.PLAIN);
      for (int t = 0; t < CAPACITY; t++) publish(file, t, t, 1, 0);
      List<InProcRing.Record> out = new ArrayList<>();
      assertEquals(CAPACITY, ring.drain(out, 1000));
      out.clear();
      assertEquals(0, ring.drain(out, 1000), "slot 0 holds ticket 0's seq, not ticket 32's");
      publish(file, CAPACITY, 99, 1, 0);
      assertEquals(1, ring.drain(out, 1000));
      assertEquals(99, out.getFirst().site());
    }
  }

  /** What a trampoline does for ticket {@code t}: fields, then seq = t + 1. */
  private static void publish(MemorySegment file, long t, int site, int tid, long di) {
    reserve(file, t + 1);
    MemorySegment slot = file.asSlice(InProcRing.HEADER_BYTES + (t % CAPACITY) * 128, 128);
    slot.set(JAVA_INT, InProcRing.offset(InProcRing.RECORD, "site"), site);
    slot.set(JAVA_INT, InProcRing.offset(InProcRing.RECORD, "tid"), tid);
    slot.set(JAVA_LONG, InProcRing.offset(InProcRing.RECORD, "di"), di);
    slot.set(JAVA_LONG, 0, t + 1);
  }

  private static void reserve(MemorySegment file, long head) {
    long at = InProcRing.offset(InProcRing.HEADER, "head");
    file.set(JAVA_LONG, at, Math.max(head, file.get(JAVA_LONG, at)));
  }
}
