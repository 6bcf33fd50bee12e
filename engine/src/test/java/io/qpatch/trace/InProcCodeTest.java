package io.qpatch.trace;

import io.qpatch.trace.go.GEntry;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.arch.x86_64.Cond;
import io.qpatch.arch.x86_64.Decoder;
import io.qpatch.arch.x86_64.X86Writer;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * The trampolines byte for byte (AT&T disassembly from objdump beside each line). The
 * function sits at 0x401000, its trampoline at 0x400000; the armed byte is at 0x500000
 * and the ring header at 0x501000 (head +0, tail +0x40, lost +0x80, scratch +0x100,
 * deadline +0x900), 1024 records from 0x502000.
 */
class InProcCodeTest {
  private static final long ENTRY = 0x401000;
  private static final long PC = 0x400000;
  private static final InProcCode.Ring RING = InProcCode.Ring.at(0x500000, 0x501000, 1024);

  private static byte[] hex(String... lines) {
    return HexFormat.of().parseHex(String.join("", lines).replace(" ", ""));
  }

  /**
   * A Go function: {@code cmp rsp, [r14+0x10]; jbe morestack; push rbp; ...}, the
   * morestack block at the end jumping back to the entry.
   */
  @Test
  void go_stack_check_site_copies_the_check_then_records_goid_and_procid_then_jumps_past_it() throws Exception {
    byte[] code = hex("49 3b 66 10", "76 2a", "55", "48 89 e5", "48 83 ec 10", "90".repeat(38), "e8 00 00 00 00", "eb c5");
    TracedFunction fn = new TracedFunction(0, "main.f", ENTRY, code.length, Abi.GO_REGS, GEntry.REGISTER);
    ProbeSite site = new ProbeSite(ENTRY + 4, 0, ProbeSite.Kind.CALL, fn,
        new Displaced.Jcc(Cond.BE, ENTRY + 0x30, ENTRY + 6, true));
    InProcSite s = InProcSite.of(site, 7, code, new byte[0], plan(0x98, new ProbePlan.GoThreadId(0x30, 0x48)), InProcCaptures.NONE, Decoder.shared());
    assertEquals(6, s.displaced(), "the whole check, an unsafe point for Go's preemption");
    X86Writer w = new X86Writer(PC);
    s.emit(w, RING, Decoder.shared());
    assertArrayEquals(hex(
        "49 3b 66 10",                // cmp 0x10(%r14),%rsp
        "0f 86 26 10 00 00",          // jbe 0x401030
        "9c",                         // pushf
        "80 3d ee ff 0f 00 00",       // cmpb $0x0,0xfffee(%rip) # 0x500000
        "0f 84 19 01 00 00",          // je 0x400131
        "50",                         // push %rax
        "51",                         // push %rcx
        "52",                         // push %rdx
        "56",                         // push %rsi
        "57",                         // push %rdi
        "41 53",                      // push %r11
        "48 8b 05 da 0f 10 00",       // mov 0x100fda(%rip),%rax # 0x501000
        "48 89 c2",                   // mov %rax,%rdx
        "48 2b 15 10 10 10 00",       // sub 0x101010(%rip),%rdx # 0x501040
        "48 81 fa 00 04 00 00",       // cmp $0x400,%rdx
        "73 27",                      // jae 0x400060
        "48 8d 50 01",                // lea 0x1(%rax),%rdx
        "f0 48 0f b1 15 ba 0f 10 00", // lock cmpxchg %rdx,0x100fba(%rip) # 0x501000
        "75 de",                      // jne 0x400026
        "48 89 c7",                   // mov %rax,%rdi
        "25 ff 03 00 00",             // and $0x3ff,%eax
        "48 c1 e0 07",                // shl $0x7,%rax
        "48 8d 35 a5 1f 10 00",       // lea 0x101fa5(%rip),%rsi # 0x502000
        "48 01 c6",                   // add %rax,%rsi
        "eb 2c",                      // jmp 0x40008c
        "0f 31",                      // rdtsc
        "48 c1 e2 20",                // shl $0x20,%rdx
        "48 09 d0",                   // or %rdx,%rax
        "48 3b 05 90 18 10 00",       // cmp 0x101890(%rip),%rax # 0x501900
        "73 0b",                      // jae 0x40007d
        "f3 90",                      // pause
        "48 8b 05 85 0f 10 00",       // mov 0x100f85(%rip),%rax # 0x501000
        "eb a9",                      // jmp 0x400026
        "f0 48 ff 05 fb 0f 10 00",    // lock incq 0x100ffb(%rip) # 0x501080
        "48 8d 35 74 10 10 00",       // lea 0x101074(%rip),%rsi # 0x501100
        "48 89 5e 28",                // mov %rbx,0x28(%rsi)
        "4c 89 46 50",                // mov %r8,0x50(%rsi)
        "4c 89 4e 58",                // mov %r9,0x58(%rsi)
        "4c 89 56 60",                // mov %r10,0x60(%rsi)
        "4c 89 76 70",                // mov %r14,0x70(%rsi)
        "48 8b 44 24 28",             // mov 0x28(%rsp),%rax
        "48 89 46 20",                // mov %rax,0x20(%rsi)
        "48 8b 44 24 20",             // mov 0x20(%rsp),%rax
        "48 89 46 30",                // mov %rax,0x30(%rsi)
        "48 8b 44 24 18",             // mov 0x18(%rsp),%rax
        "48 89 46 38",                // mov %rax,0x38(%rsi)
        "48 8b 44 24 10",             // mov 0x10(%rsp),%rax
        "48 89 46 40",                // mov %rax,0x40(%rsi)
        "48 8b 44 24 08",             // mov 0x8(%rsp),%rax
        "48 89 46 48",                // mov %rax,0x48(%rsi)
        "48 8b 44 24 00",             // mov 0x0(%rsp),%rax
        "48 89 46 68",                // mov %rax,0x68(%rsi)
        "48 8d 84 24 38 00 00 00",    // lea 0x38(%rsp),%rax
        "48 89 46 78",                // mov %rax,0x78(%rsi)
        "4c 89 f0",                   // mov %r14,%rax
        "48 8b 80 98 00 00 00",       // mov 0x98(%rax),%rax
        "48 89 46 18",                // mov %rax,0x18(%rsi)
        "c7 46 08 07 00 00 00",       // movl $0x7,0x8(%rsi)
        "4c 89 f0",                   // mov %r14,%rax
        "48 8b 80 30 00 00 00",       // mov 0x30(%rax),%rax
        "8b 80 48 00 00 00",          // mov 0x48(%rax),%eax
        "85 c0",                      // test %eax,%eax
        "75 07",                      // jne 0x400112
        "b8 ba 00 00 00",             // mov $0xba,%eax
        "0f 05",                      // syscall
        "89 46 0c",                   // mov %eax,0xc(%rsi)
        "0f 31",                      // rdtsc
        "48 c1 e2 20",                // shl $0x20,%rdx
        "48 09 d0",                   // or %rdx,%rax
        "48 89 46 10",                // mov %rax,0x10(%rsi)
        "48 8d 47 01",                // lea 0x1(%rdi),%rax
        "48 89 46 00",                // mov %rax,0x0(%rsi)
        "41 5b",                      // pop %r11
        "5f",                         // pop %rdi
        "5e",                         // pop %rsi
        "5a",                         // pop %rdx
        "59",                         // pop %rcx
        "58",                         // pop %rax
        "9d",                         // popf
        "e9 cf 0e 00 00"              // jmp 0x401006
    ), w.bytes());
    assertArrayEquals(hex("e9 fb ef ff ff"), InProcCode.jumpTo(ENTRY, PC), "jmp 0x400000");
    assertArrayEquals(Arrays.copyOf(code, 5), s.original());
  }

  /** A C function {@code lea rax, [rdi+1]; ret}: the red zone stepped over, no goid, then the relocated body. */
  @Test
  void c_site_steps_over_the_red_zone_records_then_runs_the_relocated_entry() throws Exception {
    byte[] code = hex("48 8d 47 01", "c3");
    TracedFunction fn = new TracedFunction(0, "hot", ENTRY, code.length, Abi.SYSV, GEntry.UNKNOWN);
    ProbeSite site = new ProbeSite(ENTRY, 0, ProbeSite.Kind.CALL, fn, new Displaced.Relocated(code, ENTRY));
    InProcSite s = InProcSite.of(site, 3, code, new byte[0], plan(-1, null), InProcCaptures.NONE, Decoder.shared());
    X86Writer w = new X86Writer(PC);
    s.emit(w, RING, Decoder.shared());
    byte[] b = w.bytes();
    assertArrayEquals(hex("48 8d a4 24 80 ff ff ff", "9c"), Arrays.copyOf(b, 9), "lea rsp, [rsp-128]; pushfq");
    assertArrayEquals(hex(
        "48 8d 84 24 b8 00 00 00",    // lea rax, [rsp+56+128]: rsp at the probe
        "48 89 46 78",                // mov [rsi+sp], rax
        "48 c7 46 18 fe ff ff ff",    // mov qword [rsi+goid], -2 (not read here)
        "c7 46 08 03 00 00 00"        // mov dword [rsi+site], 3
    ), Arrays.copyOfRange(b, 0xd4, 0xd4 + 27));
    assertArrayEquals(hex(
        "9d",                         // popfq
        "48 8d a4 24 80 00 00 00",    // lea rsp, [rsp+128]
        "48 8d 47 01",                // lea rax, [rdi+1]
        "c3"                          // ret (no jump back after it)
    ), Arrays.copyOfRange(b, b.length - 14, b.length));
  }

  /**
   * The loader's gate ({@code _dl_debug_state}: a lone {@code ret} and nop padding, as in
   * glibc 2.36): after publishing its record, the call waits until the reader's tail is
   * past its ticket or the deadline is reached, yielding the CPU meanwhile.
   */
  @Test
  void a_probe_of_a_ring_waiting_for_its_reader_waits_after_publishing_until_tail_passes_its_ticket() throws Exception {
    byte[] code = hex("c3");
    TracedFunction fn = new TracedFunction(0, "_dl_debug_state", ENTRY, code.length, Abi.SYSV, GEntry.UNKNOWN);
    ProbeSite site = new ProbeSite(ENTRY, 0, ProbeSite.Kind.CALL, fn, new Displaced.Ret());
    InProcSite s = InProcSite.of(site, 0, code, hex("66 66 2e 0f 1f 84 00 00 00 00 00"), plan(-1, null),
        InProcCaptures.NONE, Decoder.shared());
    X86Writer plain = new X86Writer(PC);
    s.emit(plain, RING, Decoder.shared());
    X86Writer waiting = new X86Writer(PC);
    s.emit(waiting, RING.waitingForReader(), Decoder.shared());
    byte[] w = waiting.bytes();
    byte[] publish = hex("48 8d 47 01", "48 89 46 00"); // lea rax, [rdi+1]; mov [rsi+seq], rax
    int at = indexOf(w, publish) + publish.length;
    long pc = PC + at;
    byte[] expected = hex(
        "48 8b 05" + le32(0x501040 - (pc + 7)), // mov rax, [rip+tail]
        "48 39 f8",                              // cmp rax, rdi
        "77 1b",                                 // ja done
        "0f 31",                                 // rdtsc
        "48 c1 e2 20",                           // shl rdx, 32
        "48 09 d0",                              // or rax, rdx
        "48 3b 05" + le32(0x501900 - (pc + 28)), // cmp rax, [rip+deadline]
        "73 09",                                 // jae done
        "b8 18 00 00 00",                        // mov eax, 24 (sched_yield)
        "0f 05",                                 // syscall
        "eb d9");                                // jmp to the mov
    assertArrayEquals(expected, Arrays.copyOfRange(w, at, at + expected.length));
    assertEquals(plain.bytes().length + expected.length, w.length, "only the wait is added");
  }

  private static int indexOf(byte[] in, byte[] what) {
    for (int i = 0; i + what.length <= in.length; i++) {
      if (Arrays.equals(Arrays.copyOfRange(in, i, i + what.length), what)) return i;
    }
    throw new AssertionError("not found: " + HexFormat.of().formatHex(what));
  }

  @Test
  void a_short_function_followed_by_padding_is_displaced_alone() throws Exception {
    byte[] code = hex("48 ff c0", "c3"); // INCQ AX; RET, then int3 padding (Go)
    TracedFunction fn = new TracedFunction(0, "main.hot", ENTRY, code.length, Abi.GO_REGS, GEntry.REGISTER);
    ProbeSite site = new ProbeSite(ENTRY, 0, ProbeSite.Kind.CALL, fn, new Displaced.Relocated(code, ENTRY));
    InProcSite s = InProcSite.of(site, 0, code, hex("cc cc cc cc"), plan(0x98, null), InProcCaptures.NONE, Decoder.shared());
    assertEquals(4, s.displaced());
    assertArrayEquals(hex("48 ff c0 c3 cc"), s.original());
  }

  @Test
  void a_short_function_followed_by_code_is_refused() {
    byte[] code = hex("8d 04 3f", "c3"); // lea eax, [rdi+rdi]; ret, then the next function
    TracedFunction fn = new TracedFunction(0, "work", ENTRY, code.length, Abi.SYSV, GEntry.UNKNOWN);
    ProbeSite site = new ProbeSite(ENTRY, 0, ProbeSite.Kind.CALL, fn, new Displaced.Relocated(code, ENTRY));
    org.junit.jupiter.api.Assertions.assertThrows(InProcSite.Refusal.class,
        () -> InProcSite.of(site, 0, code, hex("48 83 ec 18"), plan(-1, null), InProcCaptures.NONE, Decoder.shared()));
  }

  /**
   * {@code push rbx; mov ebx, esi; call f2} (gcc -O1's greet): the call, last of the
   * displaced bytes, is re-created with its own return address (0x401008, past the jmp)
   * pushed, so the callee returns into the original function, never into the trampoline.
   */
  @Test
  void a_call_ending_the_displaced_bytes_returns_into_the_original_function() throws Exception {
    byte[] code = hex("53", "89 f3", "e8 f8 0f 00 00", "5b", "c3"); // call 0x402000
    TracedFunction fn = new TracedFunction(0, "f", ENTRY, code.length, Abi.SYSV, GEntry.UNKNOWN);
    ProbeSite site = new ProbeSite(ENTRY, 0, ProbeSite.Kind.CALL, fn, new Displaced.Relocated(code, ENTRY));
    InProcSite s = InProcSite.of(site, 0, code, new byte[0], plan(-1, null), InProcCaptures.NONE, Decoder.shared());
    X86Writer w = new X86Writer(PC);
    s.emit(w, RING, Decoder.shared());
    byte[] all = w.bytes();
    byte[] tail = Arrays.copyOfRange(all, all.length - 31, all.length);
    long jmpEnd = PC + all.length;
    assertArrayEquals(hex(
        "53",                         // push %rbx
        "89 f3",                      // mov %esi,%ebx
        "48 8d a4 24 f8 ff ff ff",    // lea -0x8(%rsp),%rsp
        "c7 04 24 08 10 40 00",       // movl $0x401008,(%rsp)
        "c7 44 24 04 00 00 00 00",    // movl $0x0,0x4(%rsp)
        "e9", le32(0x402000 - jmpEnd)), tail); // jmp 0x402000
  }

  /**
   * The capture block of {@code f(const char *s)} with 12 bytes of stack argument at rsp+8,
   * in a 128-byte record (its area from 128: ticket, iovecs at +8/+24, lengths at +40,
   * bytes at +48 and +112), in process 4242, 128 bytes of red zone stepped over: the
   * string read by process_vm_readv(2) on the process itself, the stack copied.
   */
  @Test
  void a_capture_block_reads_pointers_by_process_vm_readv_and_copies_the_stack() {
    InProcCaptures c = InProcCaptures.of(java.util.List.of(Capture.cString(SampleRegs.DI), Capture.at(SampleRegs.SP, 8, 12)), 128);
    assertEquals(128 + 48 + 64 + 16, c.end());
    X86Writer w = new X86Writer(PC);
    c.emit(w, 128, 4242, InProcCaptures.Span.NONE);
    java.util.List<String> text = Decoder.shared().decodeAll(w.bytes(), PC).stream()
        .map(i -> i.mnemonic() + " " + i.operandText()).toList();
    assertEquals(java.util.List.of(
        "mov qword ptr [rsi + 0x80], rdi",
        "mov rax, qword ptr [rsi + 0x48]",          // di at the probe, from the record
        "mov qword ptr [rsi + 0x98], rax",          // remote iovec: the pointer,
        "mov qword ptr [rsi + 0xa0], 0x40",         //   64 bytes
        "lea rax, [rsi + 0xb0]",
        "mov qword ptr [rsi + 0x88], rax",          // local iovec: the record's bytes
        "mov qword ptr [rsi + 0x90], 0x40",
        "mov edi, 0x1092",
        "mov edx, 1",
        "lea r10, [rsi + 0x98]",
        "mov r8d, 1",
        "xor r9d, r9d",
        "lea rsi, [rsi + 0x88]",
        "mov eax, 0x136",
        "syscall ",
        "lea rsi, [rsi - 0x88]",
        "mov dword ptr [rsi + 0xa8], eax",          // bytes read, or -errno
        "mov rax, qword ptr [rsp + 0xc0]",          // rsp+8 at the probe: 56 pushed, 128 red zone
        "mov qword ptr [rsi + 0xf0], rax",
        "mov al, byte ptr [rsp + 0xc8]",
        "mov byte ptr [rsi + 0xf8], al",
        "mov al, byte ptr [rsp + 0xc9]",
        "mov byte ptr [rsi + 0xf9], al",
        "mov al, byte ptr [rsp + 0xca]",
        "mov byte ptr [rsi + 0xfa], al",
        "mov al, byte ptr [rsp + 0xcb]",
        "mov byte ptr [rsi + 0xfb], al",
        "mov dword ptr [rsi + 0xac], 0xc",
        "mov r8, qword ptr [rsi + 0x50]",
        "mov r9, qword ptr [rsi + 0x58]",
        "mov r10, qword ptr [rsi + 0x60]",
        "mov rdi, qword ptr [rsi + 0x80]"), text);
  }

  /**
   * With the executable's image known (here [0x400000, 0x600000)), a {@code char *} into
   * it is copied with rep movsb when all 64 bytes lie inside; anywhere else it is read by
   * the system call as before.
   */
  @Test
  void a_pointer_into_the_executable_image_is_copied_directly_and_any_other_by_the_system_call() {
    InProcCaptures c = InProcCaptures.of(java.util.List.of(Capture.cString(SampleRegs.DI)), 128);
    X86Writer w = new X86Writer(PC);
    c.emit(w, 128, 4242, new InProcCaptures.Span(0x400000, 0x600000));
    java.util.List<String> text = Decoder.shared().decodeAll(w.bytes(), PC).stream()
        .map(i -> i.mnemonic() + " " + i.operandText()).toList();
    assertEquals(java.util.List.of(
        "mov qword ptr [rsi + 0x80], rdi",
        "mov rax, qword ptr [rsi + 0x48]",          // the pointer
        "movabs rdx, 0xffffffffffc00000",           // -start
        "add rdx, rax",
        "cmp rdx, 0x1fffc0",                        // end - start - 64
        "ja 0x40003e",                              // outside: to the system call after the jmp
        "push rsi",
        "lea rdi, [rsi + 0xb0]",
        "mov rsi, rax",
        "mov ecx, 0x40",
        "rep movsb byte ptr [rdi], byte ptr [rsi]",
        "pop rsi",
        "mov eax, 0x40",                            // 64 bytes read
        "jmp 0x400098"), text.subList(0, 14));      // over it, to the store of the length
    assertEquals("syscall ", text.get(26));
    assertEquals("mov dword ptr [rsi + 0xa8], eax", text.get(28), "both paths store the length read");
  }

  private static String le32(long v) {
    return String.format("%02x %02x %02x %02x", v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff);
  }

  @Test
  void a_call_that_cannot_be_recreated_or_is_followed_by_more_displaced_bytes_is_refused() {
    for (String bytes : new String[] {"ff d0 90 90 90 c3", "48 89 c3 ff d0 c3"}) { // call rax; nops / mov rbx, rax; call rax
      byte[] code = hex(bytes);
      TracedFunction fn = new TracedFunction(0, "f", ENTRY, code.length, Abi.SYSV, GEntry.UNKNOWN);
      ProbeSite site = new ProbeSite(ENTRY, 0, ProbeSite.Kind.CALL, fn, new Displaced.Relocated(code, ENTRY));
      org.junit.jupiter.api.Assertions.assertThrows(InProcSite.Refusal.class,
          () -> InProcSite.of(site, 0, code, new byte[0], plan(-1, null), InProcCaptures.NONE, Decoder.shared()), bytes);
    }
  }

  /** A plan of an internally linked Go program (g at fs:-8), or of a C one (goidOffset -1). */
  private static ProbePlan plan(long goidOffset, ProbePlan.GoThreadId threadId) {
    return new ProbePlan("prog", 0, java.util.List.of(), java.util.List.of(), java.util.Map.of(), goidOffset,
        goidOffset < 0 ? ProbePlan.NO_TLS : -8, "", null, threadId);
  }

  /** {@code length} bytes of the trampoline after the store of rsp ({@code mov [rsi+sp], rax}). */
  private static byte[] goidBlock(InProcSite s, int length) {
    X86Writer w = new X86Writer(PC);
    s.emit(w, RING, Decoder.shared());
    byte[] b = w.bytes();
    byte[] storeSp = hex("48 89 46 78");
    for (int i = 0; i + storeSp.length <= b.length; i++) {
      if (Arrays.equals(Arrays.copyOfRange(b, i, i + storeSp.length), storeSp)) {
        return Arrays.copyOfRange(b, i + storeSp.length, i + storeSp.length + length);
      }
    }
    throw new AssertionError("no store of rsp in the trampoline");
  }

  /** A Go leaf without a stack check (ABIInternal): g is R14 at the entry, read from it. */
  @Test
  void go_leaf_site_reads_goid_through_r14() throws Exception {
    byte[] code = hex("48 8d 04 40", "48 ff c0", "c3"); // lea rax, [rax+rax*2]; inc rax; ret
    TracedFunction fn = new TracedFunction(0, "main.work", ENTRY, code.length, Abi.GO_REGS, GEntry.REGISTER);
    ProbeSite site = new ProbeSite(ENTRY, 0, ProbeSite.Kind.CALL, fn, new Displaced.Relocated(code, ENTRY));
    InProcSite s = InProcSite.of(site, 0, code, new byte[0], plan(0x98, null), InProcCaptures.NONE, Decoder.shared());
    assertArrayEquals(hex(
        "4c 89 f0",                   // mov rax, r14: g
        "48 8b 80 98 00 00 00",       // mov rax, [rax+0x98]: g.goid
        "48 89 46 18"                 // mov [rsi+goid], rax
    ), goidBlock(s, 14));
  }

  /** An assembly (ABI0) function: g from TLS, fs:-8, and no goid on a thread whose slot is 0. */
  @Test
  void go_abi0_site_reads_goid_through_tls() throws Exception {
    byte[] code = hex("48 8b 44 24 08", "c3"); // mov rax, [rsp+8]; ret
    TracedFunction fn = new TracedFunction(0, "runtime.nanotime1", ENTRY, code.length, Abi.GO_REGS, GEntry.TLS);
    ProbeSite site = new ProbeSite(ENTRY, 0, ProbeSite.Kind.CALL, fn, new Displaced.Relocated(code, ENTRY));
    InProcSite s = InProcSite.of(site, 0, code, new byte[0], plan(0x98, null), InProcCaptures.NONE, Decoder.shared());
    assertArrayEquals(hex(
        "64 48 8b 04 25 f8 ff ff ff", // mov rax, fs:[-8]: g
        "48 85 c0",                   // test rax, rax
        "74 0d",                      // je none
        "48 8b 80 98 00 00 00",       // mov rax, [rax+0x98]: g.goid
        "48 89 46 18",                // mov [rsi+goid], rax
        "eb 08",                      // jmp done
        "48 c7 46 18 fe ff ff ff"     // none: mov qword [rsi+goid], -2
    ), goidBlock(s, 35));
  }

  /** A plan that decodes floats: 256-byte records (shl 8), XMM0-15's low halves stored after rsp. */
  @Test
  void a_ring_with_xmm_records_stores_every_xmm_register() throws Exception {
    byte[] code = hex("48 8d 47 01", "c3");
    TracedFunction fn = new TracedFunction(0, "scale", ENTRY, code.length, Abi.SYSV, GEntry.UNKNOWN);
    ProbeSite site = new ProbeSite(ENTRY, 0, ProbeSite.Kind.CALL, fn, new Displaced.Relocated(code, ENTRY));
    InProcSite s = InProcSite.of(site, 0, code, new byte[0], plan(-1, null), InProcCaptures.NONE, Decoder.shared());
    X86Writer w = new X86Writer(PC);
    s.emit(w, InProcCode.Ring.at(0x500000, 0x501000, 1024, new InProcRing.Shape(true, InProcRing.RECORD_WITH_XMM_BYTES), 1), Decoder.shared());
    String all = HexFormat.of().formatHex(w.bytes());
    assertTrue(all.contains("48c1e008"), "shl rax, 8: " + all);
    assertTrue(all.contains("488946" + "78"
        + "660fd686" + "80000000"        // movq [rsi+0x80], xmm0
        + "660fd68e" + "88000000"),      // movq [rsi+0x88], xmm1
        all);
    assertTrue(all.contains("66440fd6be" + "f8000000"), "movq [rsi+0xf8], xmm15: " + all);
  }
}
