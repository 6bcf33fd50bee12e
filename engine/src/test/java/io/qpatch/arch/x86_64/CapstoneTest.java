package io.qpatch.arch.x86_64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The handle-level binding, below Decoder. */
class CapstoneTest {
  @BeforeAll
  static void capstone() {
    NativeTools.requireCapstone();
  }

  @Test
  void names_of_registers_and_instructions_come_from_the_library() {
    try (Capstone cs = Capstone.open()) {
      assertEquals("rip", cs.regName(CapstoneIds.X86_REG_RIP));
      assertEquals("", cs.regName(CapstoneIds.X86_REG_INVALID));
      assertEquals("ret", cs.insnName(CapstoneIds.X86_INS_RET));
      assertEquals("endbr64", cs.insnName(CapstoneIds.X86_INS_ENDBR64));
      assertEquals("", cs.insnName(-1));
    }
  }

  @Test
  void errno_and_strerror_report_capstone_errors() {
    try (Capstone cs = Capstone.open()) {
      assertEquals(0, cs.errno());
    }
    assertEquals("OK (CS_ERR_OK)", Capstone.strerror(0));
    assertEquals("Invalid option (CS_ERR_OPTION)", Capstone.strerror(6));
  }

  @Test
  void a_closed_handle_refuses_further_use_and_closes_once() {
    Capstone cs = Capstone.open();
    cs.close();
    cs.close();
    assertThrows(IllegalStateException.class, () -> cs.regName(1));
  }
}
