package io.qpatch.arch.x86_64;

import static io.qpatch.arch.x86_64.Code.assertCode;
import static io.qpatch.arch.x86_64.Code.disasm;
import static io.qpatch.arch.x86_64.Code.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class X86WriterTest {
  private static final long PC = 0x7f00_0000_1000L;

  @BeforeAll
  static void capstone() {
    NativeTools.requireCapstone();
  }

  @Test
  void pc_follows_the_bytes_written_from_the_base_address() {
    X86Writer w = new X86Writer(PC);
    w.putRet();
    w.putInt3();
    assertEquals(PC, w.basePc());
    assertEquals(2, w.offset());
    assertEquals(PC + 2, w.pc());
    assertCode(hex("c3", "cc"), w.bytes());
  }

  @Test
  void jmp_and_call_rel32_count_from_the_end_of_the_instruction() {
    X86Writer w = new X86Writer(PC);
    w.putJmpRel32(PC + 0x1000);
    w.putCallRel32(PC - 0x10);
    w.putJccRel32(Cond.NE, PC + 5);
    assertCode(hex(
        "e9 fb 0f 00 00",    // jmp PC+0x1000
        "e8 e6 ff ff ff",    // call PC-0x10
        "0f 85 f5 ff ff ff"  // jne PC+5
    ), w.bytes());
    assertEquals(List.of("jmp 0x7f0000002000", "call 0x7f0000000ff0", "jne 0x7f0000001005"),
        disasm(w.bytes(), PC));
  }

  @Test
  void rel32_refuses_a_target_beyond_two_gib() {
    X86Writer w = new X86Writer(PC);
    assertThrows(IllegalArgumentException.class, () -> w.putJmpRel32(PC + 0x8000_0005L));
  }

  @Test
  void can_reach_rel32_is_measured_from_a_five_byte_branch() {
    assertTrue(X86Writer.canReachRel32(PC, PC + 5 + Integer.MAX_VALUE));
    assertFalse(X86Writer.canReachRel32(PC, PC + 6 + Integer.MAX_VALUE));
    assertTrue(X86Writer.canReachRel32(PC, PC + 5 + Integer.MIN_VALUE));
    assertFalse(X86Writer.canReachRel32(PC, PC + 4 + Integer.MIN_VALUE));
  }

  @Test
  void absolute_jmp_and_call_go_through_an_inline_eight_byte_slot() {
    X86Writer w = new X86Writer(PC);
    w.putJmpAbsIndirect(0x1122334455667788L);
    w.putCallAbsIndirect(0x0102030405060708L);
    assertCode(hex(
        "ff 25 00 00 00 00", "88 77 66 55 44 33 22 11",  // jmp [rip]; .quad
        "ff 15 02 00 00 00",                             // call [rip+2]
        "eb 08",                                         // jmp over the slot
        "08 07 06 05 04 03 02 01"                        // .quad target
    ), w.bytes());
  }

  @Test
  void jmp_address_picks_rel32_when_it_reaches_and_the_absolute_form_otherwise() {
    X86Writer near = new X86Writer(PC);
    near.putJmpAddress(PC + 0x10);
    near.putCallAddress(PC + 0x10);
    assertCode(hex("e9 0b 00 00 00", "e8 06 00 00 00"), near.bytes());
    X86Writer far = new X86Writer(PC);
    far.putJmpAddress(0x401000);
    assertEquals(X86Writer.JMP_ABS_INDIRECT_SIZE, far.offset());
    assertEquals(List.of("jmp qword ptr [rip]"), disasm(java.util.Arrays.copyOf(far.bytes(), 6), PC));
  }

  @Test
  void short_branches_and_labels_patch_forward_and_backward_references() {
    X86Writer w = new X86Writer(PC);
    X86Writer.Label top = w.newLabel();
    X86Writer.Label end = w.newLabel();
    w.putLabel(top);
    w.putJccShortLabel(Cond.E, end);
    w.putNop(1);
    w.putJmpShortLabel(top);
    w.putLabel(end);
    w.putJmpShort(PC);
    assertCode(hex(
        "74 03",  // je end
        "90",     // nop
        "eb fb",  // jmp top
        "eb f9"   // end: jmp PC
    ), w.bytes());
  }

  @Test
  void an_unbound_label_makes_the_bytes_unusable() {
    X86Writer w = new X86Writer(PC);
    w.putJmpShortLabel(w.newLabel());
    assertThrows(IllegalStateException.class, w::bytes);
  }

  @Test
  void moves_push_and_pop_encode_rex_for_r8_to_r15() {
    X86Writer w = new X86Writer(PC);
    w.putMovRegImm64(Gpr.RAX, 0x1122334455667788L);
    w.putMovRegImm64(Gpr.R11, -1);
    w.putMovReg32Imm32(Gpr.RDX, 0x12345678);
    w.putMovReg32Imm32(Gpr.R9, 1);
    w.putPushReg(Gpr.RBP);
    w.putPushReg(Gpr.R12);
    w.putPopReg(Gpr.R15);
    w.putPopReg(Gpr.RBX);
    assertEquals(List.of(
        "movabs rax, 0x1122334455667788",
        "movabs r11, 0xffffffffffffffff",
        "mov edx, 0x12345678",
        "mov r9d, 1",
        "push rbp", "push r12", "pop r15", "pop rbx"), disasm(w.bytes(), PC));
    assertCode(hex(
        "48 b8 88 77 66 55 44 33 22 11",  // movabs rax, 0x1122334455667788
        "49 bb ff ff ff ff ff ff ff ff",  // movabs r11, -1
        "ba 78 56 34 12",                 // mov edx, 0x12345678
        "41 b9 01 00 00 00",              // mov r9d, 1
        "55", "41 54", "41 5f", "5b"      // push rbp; push r12; pop r15; pop rbx
    ), w.bytes());
  }

  @Test
  void loads_through_a_base_register_handle_the_rsp_and_rbp_special_cases() {
    X86Writer w = new X86Writer(PC);
    w.putMovRegMemBase(Gpr.RAX, Gpr.RAX);
    w.putMovRegMemBase(Gpr.R10, Gpr.RSP);
    w.putMovRegMemBase(Gpr.RBX, Gpr.R13);
    w.putMovReg32MemBase(Gpr.RSI, Gpr.R12);
    w.putMovReg32MemBase(Gpr.RBP, Gpr.RBP);
    assertCode(hex(
        "48 8b 00",     // mov rax, qword ptr [rax]
        "4c 8b 14 24",  // mov r10, qword ptr [rsp]
        "49 8b 5d 00",  // mov rbx, qword ptr [r13]
        "41 8b 34 24",  // mov esi, dword ptr [r12]
        "8b 6d 00"      // mov ebp, dword ptr [rbp]
    ), w.bytes());
    assertEquals(List.of(
        "mov rax, qword ptr [rax]", "mov r10, qword ptr [rsp]", "mov rbx, qword ptr [r13]",
        "mov esi, dword ptr [r12]", "mov ebp, dword ptr [rbp]"), disasm(w.bytes(), PC));
  }

  @Test
  void nops_use_the_recommended_multi_byte_forms() {
    for (int n = 0; n <= 20; n++) {
      X86Writer w = new X86Writer(PC);
      w.putNop(n);
      assertEquals(n, w.offset());
      assertTrue(disasm(w.bytes(), PC).stream().allMatch(s -> s.startsWith("nop")), "n=" + n);
      assertEquals((n + 8) / 9, disasm(w.bytes(), PC).size(), "fewest NOPs for n=" + n);
    }
    X86Writer w = new X86Writer(PC);
    w.putNop(9);
    assertCode(hex("66 0f 1f 84 00 00 00 00 00"), w.bytes());  // nop word ptr [rax + rax]
  }

  @Test
  void ret_int3_and_raw_bytes() {
    X86Writer w = new X86Writer(PC);
    w.putBytes((byte) 0xf3, (byte) 0x0f, (byte) 0x1e, (byte) 0xfa);
    w.putU8(0x90);
    w.putS32(-2);
    w.putU64(1);
    assertCode(hex("f3 0f 1e fa", "90", "fe ff ff ff", "01 00 00 00 00 00 00 00"), w.bytes());
  }

  @Test
  void register_moves_stores_of_an_immediate_and_system_instructions() {
    X86Writer w = new X86Writer(PC);
    w.putMovRegReg(Gpr.RDI, Gpr.RAX);
    w.putMovRegReg(Gpr.R11, Gpr.RSP);
    w.putMovRegReg(Gpr.RCX, Gpr.R9);
    w.putMovMemBaseImm32(Gpr.RBX, 0);
    w.putMovMemBaseImm32(Gpr.RSP, -1);
    w.putMovMemBaseImm32(Gpr.R13, 7);
    w.putSyscall();
    w.putUd2();
    assertCode(hex(
        "48 89 c7",                 // mov rdi, rax
        "49 89 e3",                 // mov r11, rsp
        "4c 89 c9",                 // mov rcx, r9
        "48 c7 03 00 00 00 00",     // mov qword ptr [rbx], 0
        "48 c7 04 24 ff ff ff ff",  // mov qword ptr [rsp], -1
        "49 c7 45 00 07 00 00 00",  // mov qword ptr [r13], 7
        "0f 05",                    // syscall
        "0f 0b"                     // ud2
    ), w.bytes());
    assertEquals(List.of(
        "mov rdi, rax", "mov r11, rsp", "mov rcx, r9", "mov qword ptr [rbx], 0",
        "mov qword ptr [rsp], -1", "mov qword ptr [r13], 7", "syscall", "ud2"),
        disasm(w.bytes(), PC));
  }
}
