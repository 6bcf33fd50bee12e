package io.qpatch.arch.x86_64;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HexFormat;
import java.util.List;

/** Byte-exact expectations: hex lines, and what Capstone says they disassemble to. */
final class Code {
  private Code() {}

  /** Concatenates lines of hex bytes such as {@code "48 89 e5"}. */
  static byte[] hex(String... lines) {
    return HexFormat.of().parseHex(String.join("", lines).replace(" ", ""));
  }

  static String hexOf(byte[] bytes) {
    return HexFormat.ofDelimiter(" ").formatHex(bytes);
  }

  /** Capstone's Intel text for every instruction of {@code code} at {@code pc}. */
  static List<String> disasm(byte[] code, long pc) {
    List<Instruction> insns = Decoder.shared().decodeAll(code, pc);
    assertEquals(code.length, insns.stream().mapToInt(Instruction::length).sum(),
        "not all bytes decode: " + hexOf(code));
    return insns.stream().map(Code::text).toList();
  }

  static String text(Instruction i) {
    return i.operandText().isEmpty() ? i.mnemonic() : i.mnemonic() + " " + i.operandText();
  }

  static void assertCode(byte[] expected, byte[] actual) {
    assertEquals(hexOf(expected), hexOf(actual));
  }
}
