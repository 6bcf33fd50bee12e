package io.qpatch.arch.x86_64;

import static io.qpatch.arch.x86_64.Code.hex;
import static io.qpatch.arch.x86_64.Code.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DecoderTest {
  private static final long PC = 0x401000;
  private static Decoder decoder;

  @BeforeAll
  static void open() {
    NativeTools.requireCapstone();
    decoder = Decoder.open();
  }

  @AfterAll
  static void close() {
    if (decoder != null) decoder.close();
  }

  private static Instruction one(String hexBytes) {
    return decoder.decode(hex(hexBytes), PC).orElseThrow();
  }

  @Test
  void push_rbp_has_its_address_bytes_text_and_register_effects() {
    Instruction i = one("55");
    assertEquals(PC, i.address());
    assertEquals(1, i.length());
    assertEquals(PC + 1, i.end());
    assertEquals("push", i.mnemonic());
    assertEquals("rbp", i.operandText());
    assertEquals(List.of("rsp", "rbp"), i.regsRead());
    assertEquals(List.of("rsp"), i.regsWritten());
    assertFalse(i.isRelativeBranch() || i.hasRipRelativeOperand() || i.endsFlow());
    assertEquals("0x401000: 55  push rbp", i.toString());
  }

  @Test
  void operands_name_registers_with_their_access() {
    Instruction i = one("48 89 e5");  // mov rbp, rsp
    assertEquals(List.of(
        new Operand(Operand.Type.REG, "rbp", 0, null, 8, Operand.WRITE),
        new Operand(Operand.Type.REG, "rsp", 0, null, 8, Operand.READ)), i.operands());
  }

  @Test
  void rip_relative_lea_gives_displacement_its_position_and_target() {
    Instruction i = one("48 8d 05 34 12 00 00");  // lea rax, [rip + 0x1234]
    assertTrue(i.hasRipRelativeOperand());
    assertEquals(0x1234, i.ripDisplacement());
    assertEquals(3, i.ripDispOffset());
    assertEquals(4, i.ripDispSize());
    assertEquals(PC + 7 + 0x1234, i.ripTarget());
    assertEquals(new Operand.Mem("", "rip", "", 1, 0x1234), i.operands().get(1).mem());
  }

  @Test
  void rip_relative_displacement_is_found_before_an_immediate() {
    Instruction i = one("c7 05 f0 ff ff ff 01 00 00 00");  // mov dword ptr [rip - 0x10], 1
    assertEquals(2, i.ripDispOffset());
    assertEquals(-16, i.ripDisplacement());
    assertEquals(6, i.immOffset());
    assertEquals(4, i.immSize());
  }

  /** Capstone 4.0.2 reports disp_offset 0 after a 0x66 prefix; the bytes settle it. */
  @Test
  void rip_relative_displacement_is_found_after_an_operand_size_prefix() {
    assertEquals(3, one("66 c7 05 f0 ff ff ff 01 00").ripDispOffset());  // mov word ptr [rip-0x10], 1
    assertEquals(4, one("66 0f 6f 05 54 21 17 00").ripDispOffset());     // movdqa xmm0, [rip+...]
  }

  @Test
  void relative_branches_report_absolute_targets() {
    record Case(String bytes, String text, long target, boolean call, boolean jmp, boolean cond) {}
    List<Case> cases = List.of(
        new Case("eb 02", "jmp 0x401004", PC + 4, false, true, false),
        new Case("e9 fb 0f 00 00", "jmp 0x402000", PC + 0x1000, false, true, false),
        new Case("74 fe", "je 0x401000", PC, false, false, true),
        new Case("0f 85 00 01 00 00", "jne 0x401106", PC + 0x106, false, false, true),
        new Case("e8 00 00 00 00", "call 0x401005", PC + 5, true, false, false),
        new Case("e3 10", "jrcxz 0x401012", PC + 0x12, false, false, true),
        new Case("e2 f0", "loop 0x400ff2", PC - 0xe, false, false, true));
    for (Case c : cases) {
      Instruction i = one(c.bytes());
      assertEquals(c.text(), text(i));
      assertTrue(i.isRelativeBranch(), c.text());
      assertEquals(c.target(), i.branchTarget(), c.text());
      assertEquals(c.call(), i.isCall(), c.text());
      assertEquals(c.jmp(), i.isJmp(), c.text());
      assertEquals(c.cond(), i.isConditionalJump(), c.text());
    }
  }

  @Test
  void an_indirect_jmp_through_rip_is_a_jmp_with_a_rip_operand_not_a_relative_branch() {
    Instruction i = one("ff 25 e2 2f 00 00");  // jmp qword ptr [rip + 0x2fe2]
    assertTrue(i.isJmp() && i.endsFlow() && i.hasRipRelativeOperand());
    assertFalse(i.isRelativeBranch());
    assertThrows(IllegalStateException.class, i::branchTarget);
    assertEquals(PC + 6 + 0x2fe2, i.ripTarget());
  }

  @Test
  void flow_facts_for_ret_int3_endbr64_ud2_and_hlt() {
    assertTrue(one("c3").isRet() && one("c3").endsFlow());
    assertTrue(one("f3 c3").isRet());            // repz ret
    assertTrue(one("c2 08 00").isRet());         // ret 8
    assertTrue(one("cc").isInt3());
    assertFalse(one("cc").endsFlow());
    assertTrue(one("f3 0f 1e fa").isEndbr64());
    assertTrue(one("0f 0b").endsFlow());         // ud2
    assertTrue(one("f4").endsFlow());            // hlt
    assertFalse(one("ff d0").endsFlow());        // call rax
    assertTrue(one("ff d0").isCall());
  }

  @Test
  void immediates_have_an_offset_and_size() {
    Instruction sub = one("48 83 ec 10");  // sub rsp, 0x10
    assertEquals(3, sub.immOffset());
    assertEquals(1, sub.immSize());
    assertEquals(-1, one("55").immOffset());
  }

  @Test
  void invalid_or_cut_short_bytes_decode_to_nothing() {
    assertTrue(decoder.decode(hex("0f 0f"), PC).isEmpty());            // cut-short 3DNow!
    assertTrue(decoder.decode(hex("48 8d 05 34"), PC).isEmpty());      // lea missing its disp
    assertTrue(decoder.decode(new byte[0], PC).isEmpty());
    assertTrue(decoder.decode(hex("06"), PC).isEmpty());               // push es: invalid in 64-bit
  }

  @Test
  void decode_at_an_offset_uses_the_address_given() {
    Instruction i = decoder.decode(hex("90 90 eb fe"), 2, PC + 2).orElseThrow();
    assertEquals(PC + 2, i.branchTarget());
  }

  @Test
  void decode_all_sweeps_until_the_first_invalid_instruction() {
    List<Instruction> all = decoder.decodeAll(hex("55", "48 89 e5", "06", "c3"), PC);
    assertEquals(List.of("push rbp", "mov rbp, rsp"), all.stream().map(Code::text).toList());
    assertEquals(PC + 1, all.get(1).address());
  }

  @Test
  void decode_at_least_stops_at_the_first_boundary_past_the_minimum() {
    byte[] code = hex("55", "48 89 e5", "48 83 ec 10", "c3");
    assertEquals(2, decoder.decodeAtLeast(code, PC, 4).size());
    assertEquals(3, decoder.decodeAtLeast(code, PC, 5).size());
    assertEquals(4, decoder.decodeAtLeast(code, PC, 100).size());
  }

  @Test
  void one_shared_decoder_gives_the_same_answers_on_many_threads() throws Exception {
    byte[] code = hex("55", "48 89 e5", "48 8d 05 34 12 00 00", "74 02", "c3");
    List<String> expected = decoder.decodeAll(code, PC).stream().map(Instruction::toString).toList();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Callable<Boolean>> tasks = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        tasks.add(() -> {
          for (int n = 0; n < 500; n++) {
            List<String> got = Decoder.shared().decodeAll(code, PC).stream()
                .map(Instruction::toString).toList();
            if (!got.equals(expected)) return false;
          }
          return true;
        });
      }
      for (Future<Boolean> f : pool.invokeAll(tasks)) assertTrue(f.get());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void the_shared_decoder_cannot_be_closed() {
    assertThrows(IllegalStateException.class, () -> Decoder.shared().close());
  }

  @Test
  void bytes_are_a_defensive_copy() {
    Instruction i = one("55");
    i.bytes()[0] = 0;
    assertEquals(0x55, i.byteAt(0));
  }
}
