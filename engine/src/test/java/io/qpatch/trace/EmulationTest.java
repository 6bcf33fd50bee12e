package io.qpatch.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.arch.x86_64.Decoder;
import io.qpatch.arch.x86_64.Instruction;
import io.qpatch.sys.Reg;
import io.qpatch.sys.Registers;
import java.lang.foreign.Arena;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The instructions the ptrace backend carries out itself, byte for byte. */
class EmulationTest {
  private static final long AT = 0x401000;

  private static Displaced classify(String hex) {
    byte[] code = java.util.HexFormat.of().parseHex(hex.replace(" ", ""));
    Instruction insn = Decoder.shared().decode(code, AT).orElseThrow();
    return Emulation.of(insn, code, AT);
  }

  private static Registers regs() {
    Registers r = Registers.read(Arena.ofAuto().allocate(Registers.LAYOUT));
    r.set(Reg.RAX, 0x1111).set(Reg.RBX, 0x2222).set(Reg.RDI, 0x7777).set(Reg.R12, 0xcccc);
    return r.rsp(0x7ffd0000).rip(AT);
  }

  /** A stack of 8-byte words. */
  private static final class Stack implements TargetMemory {
    final Map<Long, Long> words = new HashMap<>();

    @Override
    public long read8(long address) {
      return words.getOrDefault(address, 0L);
    }

    @Override
    public void write8(long address, long value) {
      words.put(address, value);
    }

    @Override
    public byte[] read(long address, int length) {
      throw new UnsupportedOperationException();
    }
  }

  @Test
  void endbr64_and_multibyte_nops_just_move_on() {
    Registers r = regs();
    classify("f3 0f 1e fa").execute(r, new Stack()); // endbr64
    assertEquals(AT + 4, r.rip());
    r = regs();
    classify("0f 1f 44 00 00").execute(r, new Stack()); // nop dword ptr [rax+rax]
    assertEquals(AT + 5, r.rip());
  }

  @Test
  void push_r12_stores_the_register_below_rsp() {
    Registers r = regs();
    Stack s = new Stack();
    classify("41 54").execute(r, s); // push r12
    assertEquals(0x7ffd0000L - 8, r.rsp());
    assertEquals(0xcccc, s.read8(r.rsp()));
    assertEquals(AT + 2, r.rip());
  }

  @Test
  void mov_rbp_rsp_and_mov_eax_edi_copy_registers() {
    Registers r = regs();
    classify("48 89 e5").execute(r, new Stack()); // mov rbp, rsp
    assertEquals(0x7ffd0000L, r.get(Reg.RBP));
    r = regs().set(Reg.RDI, 0xffffffff_00000005L);
    classify("89 f8").execute(r, new Stack()); // mov eax, edi: zero-extends
    assertEquals(5, r.get(Reg.RAX));
    assertEquals(AT + 2, r.rip());
  }

  @Test
  void sub_rsp_sets_flags_like_the_real_sub() {
    Registers r = regs().set(Reg.EFLAGS, 0x202);
    classify("48 83 ec 18").execute(r, new Stack()); // sub rsp, 0x18
    assertEquals(0x7ffd0000L - 0x18, r.rsp());
    assertEquals(AT + 4, r.rip());
    long f = r.get(Reg.EFLAGS);
    assertEquals(0, f & (Flags.CF | Flags.ZF | Flags.SF | Flags.OF));
    assertEquals(0x200, f & 0x200, "other flags kept");
    assertEquals(Flags.PF, f & Flags.PF, "0x...ffe8 low byte has 4 bits set: parity even");
  }

  @Test
  void call_rel32_pushes_the_real_return_address() {
    Registers r = regs();
    Stack s = new Stack();
    Displaced d = classify("e8 fb 0f 00 00"); // call AT+5+0xffb
    assertInstanceOf(Displaced.Call.class, d);
    d.execute(r, s);
    assertEquals(AT + 0x1000, r.rip());
    assertEquals(AT + 5, s.read8(r.rsp()));
  }

  @Test
  void ret_pops_and_jbe_follows_the_flags() {
    Registers r = regs();
    Stack s = new Stack();
    s.write8(0x7ffd0000L, 0x402222);
    classify("c3").execute(r, s);
    assertEquals(0x402222, r.rip());
    assertEquals(0x7ffd0008L, r.rsp());
    Displaced jbe = classify("76 10");
    r = regs().set(Reg.EFLAGS, Flags.CF);
    jbe.execute(r, s);
    assertEquals(AT + 2 + 0x10, r.rip(), "taken when CF");
    r = regs().set(Reg.EFLAGS, 0);
    jbe.execute(r, s);
    assertEquals(AT + 2, r.rip(), "falls through");
  }

  @Test
  void anything_else_runs_out_of_line() {
    assertInstanceOf(Displaced.Relocated.class, classify("48 8b 05 00 10 00 00")); // mov rax, [rip+0x1000]
    assertTrue(classify("ff 15 00 10 00 00") == null, "call through memory is refused");
  }
}
