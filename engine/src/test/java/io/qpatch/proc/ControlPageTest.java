package io.qpatch.proc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class ControlPageTest {
  private static byte[] hex(String... lines) {
    return HexFormat.of().parseHex(String.join("", lines).replace(" ", ""));
  }

  @Test
  void pad_code_is_byte_exact() {
    assertArrayEquals(hex(
        "0f 05",                 //  0 syscall                SYSCALL_RET
        "c3",                    //  2 ret
        "48 89 c7",              //  3 mov rdi, rax           CALL_RETURN
        "b8 27 00 00 00",        //  6 mov eax, 39 (getpid)
        "0f 05",                 // 11 syscall
        "48 89 43 10",           // 13 mov [rbx + 16], rax    DONE
        "48 c7 03 00 00 00 00",  // 17 mov qword ptr [rbx], 0
        "b8 0f 00 00 00",        // 24 mov eax, 15 (rt_sigreturn)
        "0f 05",                 // 29 syscall
        "0f 0b"                  // 31 ud2
    ), ControlPage.code());
  }

  @Test
  void pad_entry_points_match_the_code() {
    byte[] code = ControlPage.code();
    assertEquals(0x0f, code[ControlPage.SYSCALL_RET]);
    assertEquals((byte) 0xc3, code[ControlPage.SYSCALL_RET + 2], "syscall; ret");
    assertEquals(0x48, code[ControlPage.CALL_RETURN]);
    assertEquals(0x05, code[ControlPage.RETURNED - 1], "RETURNED follows the getpid syscall");
    assertEquals(ControlPage.DONE, ControlPage.RETURNED, "after getpid the slot is freed");
    assertTrue(code.length <= ControlPage.CODE_SIZE);
    ControlPage p = new ControlPage(0x7f0000000000L);
    assertEquals(0x7f0000000000L + ControlPage.CALL_RETURN, p.callReturn());
    assertEquals(0x7f0000001000L + ControlPage.SLOT_SIZE, p.slot(1));
  }

  @Test
  void a_slot_holds_the_fpu_image_the_frame_and_a_signal_stack_between() {
    assertEquals(0, ControlPage.SLOT_FPSTATE % 64, "XRSTOR needs 64-byte alignment");
    assertEquals(0, ControlPage.SLOT_SIGFRAME % 16);
    assertTrue(ControlPage.SLOT_SIGFRAME + SigFrame.size() <= ControlPage.SLOT_SIZE);
    long signalStack = ControlPage.SLOT_SIGFRAME - RemoteSyscall.RED_ZONE
        - (ControlPage.SLOT_FPSTATE + XState.MAX + 4);
    assertTrue(signalStack >= 8 * 1024, "room for a signal frame below the frame: " + signalStack);
    assertEquals(ControlPage.CODE_SIZE + ControlPage.SLOTS * ControlPage.SLOT_SIZE, ControlPage.TOTAL);
  }

  @Test
  void slot_owner_words_encode_kind_and_thread() {
    assertArrayEquals(hex("39 30 00 00 02 00 00 00", "00 10 00 00 00 00 00 00"),
        ControlPage.longs((long) ControlPage.KIND_CALL << 32 | 12345, 0x1000));
    assertEquals(0x1000, ControlPage.le(ControlPage.longs(7, 0x1000), 8));
  }
}
