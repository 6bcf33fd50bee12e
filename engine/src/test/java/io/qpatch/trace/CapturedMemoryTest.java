package io.qpatch.trace;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class CapturedMemoryTest {
  private static byte[] counting(int from, int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) b[i] = (byte) (from + i);
    return b;
  }

  @Test
  void a_read_spanning_two_adjacent_stack_captures_is_answered_and_one_past_them_fails() {
    long[] regs = new long[SampleRegs.GPR_COUNT];
    regs[SampleRegs.SP] = 0x1000;
    CapturedMemory m = new CapturedMemory(List.of(Capture.at(SampleRegs.SP, 8, 64), Capture.at(SampleRegs.SP, 72, 16)),
        List.of(counting(0, 64), counting(64, 16)), regs);
    assertArrayEquals(counting(60, 10), m.read(0x1008 + 60, 10));
    assertThrows(IllegalStateException.class, () -> m.read(0x1008 + 75, 8));
  }

  /** A string on the stack: its pointer word was captured, its bytes where the word points. */
  @Test
  void a_capture_through_a_captured_word_lands_where_the_word_points() {
    long[] regs = new long[SampleRegs.GPR_COUNT];
    regs[SampleRegs.SP] = 0x1000;
    byte[] word = new byte[16];
    word[0] = 0x40; // pointer 0x5040
    word[1] = 0x50;
    word[8] = 2; // length
    CapturedMemory m = new CapturedMemory(
        List.of(Capture.at(SampleRegs.SP, 8, 16), Capture.through(SampleRegs.SP, 8, 0, 64)),
        Arrays.asList(word, "hi".getBytes()), regs);
    assertEquals(0x5040, m.read8(0x1008));
    assertArrayEquals("hi".getBytes(), m.read(0x5040, 2));
  }
}
