package io.qpatch.patch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class StubCodeTest {
  private static byte[] hex(String s) {
    return HexFormat.of().parseHex(s.replaceAll("\\s+|;.*", ""));
  }

  @Test
  void the_stub_tests_the_state_byte_then_jumps_to_the_patch_or_on_to_previous() {
    byte[] expected = hex(String.join("", new String[] {
        "50",                        // push rax
        "488b0528000000",            // mov rax, [rip+0x28]     ; state pointer at +48
        "803803",                    // cmp byte [rax], 3       ; ACTIVE
        "58",                        // pop rax
        "750e",                      // jne +14                 ; previous
        "ff2500000000", "8877665544332211",  // jmp [rip] ; .quad replacement
        "ff2500000000", "0807060504030201",  // jmp [rip] ; .quad previous
        "cccccccccccc",              // padding
        "f0debc9a78563412",          // .quad state byte address
        "cccccccccccccccc"}));       // padding
    assertArrayEquals(expected,
        StubCode.stub(0x123456789abcdef0L, 0x1122334455667788L, 0x0102030405060708L));
    assertEquals(StubCode.STUB_SIZE, expected.length);
  }

  @Test
  void previous_entry_and_slot_offsets_point_at_the_second_jump() {
    byte[] stub = StubCode.stub(0, 0, 0x0102030405060708L);
    assertEquals((byte) 0xff, stub[StubCode.PREVIOUS_ENTRY]);
    assertEquals((byte) 0x25, stub[StubCode.PREVIOUS_ENTRY + 1]);
    assertArrayEquals(StubCode.previousSlot(0x0102030405060708L),
        java.util.Arrays.copyOfRange(stub, StubCode.PREVIOUS_SLOT, StubCode.PREVIOUS_SLOT + 8));
  }

  @Test
  void the_entry_jump_is_jmp_rel32_from_the_entry_and_decodes_back() {
    byte[] jump = StubCode.entryJump(0x401000, 0x400000);
    assertArrayEquals(hex("e9fbefffff"), jump);  // jmp -0x1005
    assertEquals(0x400000, StubCode.entryJumpTarget(0x401000, jump));
    assertEquals(0, StubCode.entryJumpTarget(0x401000, hex("554889e541")));
  }
}
