package io.qpatch.arch.x86_64;

import static io.qpatch.arch.x86_64.Code.assertCode;
import static io.qpatch.arch.x86_64.Code.disasm;
import static io.qpatch.arch.x86_64.Code.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.error.RefusedException;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Byte-exact relocation cases in the style of frida-gum's tests/core/arch-x86/relocator.c.
 * The function sits at F; a near trampoline at F + 0x10000, a far one at 0x7f0000000000.
 */
class RelocatorTest {
  private static final long F = 0x10000;
  private static final long NEAR = 0x20000;
  private static final long FAR = 0x7f00_0000_0000L;
  private static Relocator relocator;

  @BeforeAll
  static void capstone() {
    NativeTools.requireCapstone();
    relocator = new Relocator(Decoder.shared());
  }

  private static byte[] relocate(byte[] code, long trampoline, int expectedConsumed) {
    X86Writer out = new X86Writer(trampoline);
    assertEquals(expectedConsumed, relocator.relocate(code, F, 5, out));
    int bound = relocator.canRelocate(code, F, 5).maxRelocatedSize();
    assertTrue(out.offset() <= bound, out.offset() + " bytes written, bound " + bound);
    return out.bytes();
  }

  private static String refusal(byte[] code) {
    RelocationCheck check = relocator.canRelocate(code, F, 5);
    assertFalse(check.isOk());
    assertEquals(0, check.consumed());
    RefusedException e = assertThrows(RefusedException.class,
        () -> relocator.relocate(code, F, 5, new X86Writer(NEAR)));
    assertEquals("cannot relocate the instructions at 0x10000: " + check.refusal(), e.getMessage());
    return check.refusal();
  }

  @Test
  void a_plain_prologue_is_copied_and_followed_by_a_jump_back() {
    byte[] code = hex("55", "48 89 e5", "48 83 ec 10", "c3");
    RelocationCheck check = relocator.canRelocate(code, F, 5);
    assertTrue(check.isOk());
    assertEquals(8, check.consumed());
    assertEquals(3, check.instructions().size());
    assertCode(hex(
        "55",              // push rbp
        "48 89 e5",        // mov rbp, rsp
        "48 83 ec 10",     // sub rsp, 0x10
        "e9 fb ff fe ff"   // jmp 0x10008
    ), relocate(code, NEAR, 8));
  }

  @Test
  void rip_relative_lea_moved_0x10000_away_gets_a_new_displacement_for_the_same_target() {
    byte[] code = hex("48 8d 05 34 12 00 00", "c3");  // lea rax, [rip + 0x1234] -> 0x1123b
    byte[] out = relocate(code, NEAR, 7);
    assertCode(hex(
        "48 8d 05 34 12 ff ff",  // lea rax, [rip - 0xedcc] -> 0x1123b
        "e9 fb ff fe ff"         // jmp 0x10007
    ), out);
    assertEquals(List.of("lea rax, [rip - 0xedcc]", "jmp 0x10007"), disasm(out, NEAR));
  }

  @Test
  void rip_relative_load_out_of_rel32_reach_is_rewritten_through_its_destination_register() {
    byte[] code = hex("8b 05 00 01 00 00", "c3");  // mov eax, dword ptr [rip + 0x100] -> 0x10106
    assertCode(hex(
        "48 b8 06 01 01 00 00 00 00 00",  // movabs rax, 0x10106
        "8b 00",                          // mov eax, dword ptr [rax]
        "ff 25 00 00 00 00",              // jmp qword ptr [rip]
        "06 00 01 00 00 00 00 00"         //   .quad 0x10006
    ), relocate(code, FAR, 6));
  }

  @Test
  void rip_relative_lea_out_of_rel32_reach_becomes_movabs() {
    byte[] code = hex("4c 8d 3d f9 ff ff ff", "c3");  // lea r15, [rip - 7] -> 0x10000
    assertCode(hex(
        "49 bf 00 00 01 00 00 00 00 00",  // movabs r15, 0x10000
        "ff 25 00 00 00 00",              // jmp qword ptr [rip]
        "07 00 01 00 00 00 00 00"         //   .quad 0x10007
    ), relocate(code, FAR, 7));
  }

  @Test
  void rip_relative_store_out_of_rel32_reach_is_refused_with_the_reason() {
    byte[] code = hex("89 05 00 01 00 00", "c3");  // mov dword ptr [rip + 0x100], eax
    assertTrue(relocator.canRelocate(code, F, 5).isOk(), "fine wherever it can reach");
    RelocationCheck far = relocator.canRelocate(code, F, 5, FAR);
    assertEquals("`mov dword ptr [rip + 0x100], eax` at 0x10000 refers to 0x10106, out of rel32"
        + " reach (+-2 GiB) of the trampoline at 0x7f0000000000; place the trampoline nearer",
        far.refusal());
    X86Writer out = new X86Writer(FAR);
    RefusedException e = assertThrows(RefusedException.class, () -> relocator.relocate(code, F, 5, out));
    assertEquals("cannot relocate the instructions at 0x10000: " + far.refusal(), e.getMessage());
    assertEquals(0, out.offset(), "nothing written on refusal");
  }

  @Test
  void jmp_rel8_that_ends_the_displaced_bytes_becomes_jmp_rel32_without_a_jump_back() {
    byte[] code = hex("55", "48 89 e5", "eb 10");  // ...; jmp 0x10016
    assertCode(hex(
        "55",              // push rbp
        "48 89 e5",        // mov rbp, rsp
        "e9 0d 00 ff ff"   // jmp 0x10016
    ), relocate(code, NEAR, 6));
  }

  @Test
  void je_rel8_becomes_je_rel32() {
    byte[] code = hex("48 85 ff", "74 10", "55");  // test rdi, rdi; je 0x10015
    byte[] out = relocate(code, NEAR, 5);
    assertCode(hex(
        "48 85 ff",           // test rdi, rdi
        "0f 84 0c 00 ff ff",  // je 0x10015
        "e9 f7 ff fe ff"      // jmp 0x10005
    ), out);
    assertEquals(List.of("test rdi, rdi", "je 0x10015", "jmp 0x10005"), disasm(out, NEAR));
  }

  @Test
  void je_out_of_rel32_reach_becomes_jne_over_an_absolute_jump() {
    byte[] code = hex("48 85 ff", "74 10", "55");
    assertCode(hex(
        "48 85 ff",                 // test rdi, rdi
        "75 0e",                    // jne over
        "ff 25 00 00 00 00",        // jmp qword ptr [rip]
        "15 00 01 00 00 00 00 00",  //   .quad 0x10015
        "ff 25 00 00 00 00",        // over: jmp qword ptr [rip]
        "05 00 01 00 00 00 00 00"   //   .quad 0x10005
    ), relocate(code, FAR, 5));
  }

  @Test
  void call_rel32_is_recomputed_for_the_new_pc() {
    byte[] code = hex("e8 00 01 00 00", "c3");  // call 0x10105
    assertCode(hex(
        "e8 00 01 ff ff",  // call 0x10105
        "e9 fb ff fe ff"   // jmp 0x10005
    ), relocate(code, NEAR, 5));
  }

  @Test
  void call_out_of_rel32_reach_calls_through_an_inline_slot() {
    byte[] code = hex("e8 00 01 00 00", "c3");
    assertCode(hex(
        "ff 15 02 00 00 00",        // call qword ptr [rip + 2]
        "eb 08",                    // jmp over the slot (the return address)
        "05 01 01 00 00 00 00 00",  //   .quad 0x10105
        "ff 25 00 00 00 00",        // jmp qword ptr [rip]
        "05 00 01 00 00 00 00 00"   //   .quad 0x10005
    ), relocate(code, FAR, 5));
  }

  @Test
  void loop_keeps_its_rel8_and_jumps_on_through_a_near_jmp() {
    byte[] code = hex("90", "90", "90", "e2 10", "c3");  // nop x3; loop 0x10015
    assertCode(hex(
        "90 90 90",        // nop x3
        "e2 02",           // loop taken
        "eb 05",           // jmp over
        "e9 09 00 ff ff",  // taken: jmp 0x10015
        "e9 f4 ff fe ff"   // over: jmp 0x10005
    ), relocate(code, NEAR, 5));
  }

  @Test
  void a_later_branch_back_into_the_displaced_bytes_is_refused() {
    byte[] code = hex("55", "48 89 e5", "48 83 ec 10", "eb f7");  // ...; jmp 0x10001
    assertEquals("`jmp 0x10001` at 0x10008 branches back into the 8 displaced bytes from 0x10000",
        refusal(code));
  }

  @Test
  void a_later_branch_to_the_entry_itself_is_allowed() {
    byte[] code = hex("55", "48 89 e5", "48 83 ec 10", "eb f6");  // ...; jmp 0x10000
    assertTrue(relocator.canRelocate(code, F, 5).isOk());
  }

  @Test
  void a_displaced_branch_into_the_displaced_bytes_is_refused() {
    byte[] code = hex("74 01", "90", "90", "90", "c3");  // je 0x10003
    assertEquals("`je 0x10003` at 0x10000 branches into the 5 displaced bytes", refusal(code));
  }

  @Test
  void a_function_shorter_than_the_jump_is_refused() {
    byte[] code = hex("31 c0", "c3", "cc", "cc");  // xor eax, eax; ret
    assertEquals("function too short: `ret` at 0x10002 ends it after 3 bytes, 5 needed",
        refusal(code));
  }

  @Test
  void a_ret_that_completes_the_minimum_is_relocated_without_a_jump_back() {
    byte[] code = hex("b8 01 00 00 00", "c3");  // mov eax, 1; ret
    byte[] longer = hex("0f 1f 40 00", "c3", "cc");  // nop dword ptr [rax]; ret
    assertCode(hex("0f 1f 40 00", "c3"), relocate(longer, NEAR, 5));
    assertEquals(5, relocator.canRelocate(code, F, 5).consumed());
  }

  @Test
  void endbr64_at_the_entry_is_copied() {
    byte[] code = hex("f3 0f 1e fa", "55", "48 89 e5");
    assertCode(hex(
        "f3 0f 1e fa",     // endbr64
        "55",              // push rbp
        "e9 fb ff fe ff"   // jmp 0x10005
    ), relocate(code, NEAR, 5));
  }

  @Test
  void int3_undecodable_bytes_short_input_and_xbegin_are_refused() {
    assertEquals("int3 at 0x10001: a breakpoint is set here (a debugger, a tracer or qpatch's"
        + " breakpoint backend); remove it first", refusal(hex("55", "cc", "48 89 e5")));
    assertEquals("cannot decode the instruction at 0x10001 (bytes 06 48 89 e5)",
        refusal(hex("55", "06", "48 89 e5")));
    assertEquals("only 4 bytes of code given, 5 needed", refusal(hex("55", "48 89 e5")));
    assertEquals("`xbegin 0x10016` at 0x10000 is a relative form qpatch does not re-encode",
        refusal(hex("c7 f8 10 00 00 00")));
  }

  @Test
  void find_return_sites_lists_every_ret() {
    byte[] code = hex("55", "74 02", "5d", "c3", "5d", "c2 08 00", "cc");
    assertEquals(List.of(F + 4, F + 6), relocator.findReturnSites(code, F));
  }
}
