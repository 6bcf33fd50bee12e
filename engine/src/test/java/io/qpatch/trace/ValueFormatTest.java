package io.qpatch.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ValueFormatTest {
  private static String f64(double d) {
    return ValueFormat.floating(Double.doubleToRawLongBits(d), 8);
  }

  /** What fmt.Println prints for the same values (fmt/format.go: %e below 1e-4 and from 1e21). */
  @Test
  void floats_print_as_go_percent_v() {
    assertEquals("2.5", f64(2.5));
    assertEquals("3", f64(3.0));
    assertEquals("-0.5", f64(-0.5));
    assertEquals("0.0001", f64(0.0001));
    assertEquals("1e-05", f64(0.00001));
    assertEquals("100000000000000000000", f64(1e20));
    assertEquals("1e+21", f64(1e21));
    assertEquals("1.2345e+22", f64(1.2345e22));
    assertEquals("+Inf", f64(Double.POSITIVE_INFINITY));
    assertEquals("0.1", ValueFormat.floating(Float.floatToRawIntBits(0.1f), 4));
  }

  @Test
  void integers_are_sign_or_zero_extended_from_their_size() {
    assertEquals("-8", ValueFormat.integer(0xf8, 1, true));
    assertEquals("248", ValueFormat.integer(0xf8, 1, false));
    assertEquals("65535", ValueFormat.integer(0xffffffffffffffffL, 2, false));
    assertEquals("18446744073709551615", ValueFormat.integer(-1, 8, false));
  }

  private static String q(String s, boolean cut) {
    byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return ValueFormat.quoted(b, b.length, cut);
  }

  /** Strings as %q shows them: plain ASCII as it is, escapes and UTF-8 by the slower path, a cut string with ... */
  @Test
  void strings_are_quoted_with_escapes_utf8_and_a_mark_when_cut() {
    assertEquals("\"a string argument\"", q("a string argument", false));
    assertEquals("\"say \\\"hi\\\"\\n\"", q("say \"hi\"\n", false));
    assertEquals("\"back\\\\slash\"", q("back\\slash", false));
    assertEquals("\"caf\u00e9\"", q("caf\u00e9", false));
    assertEquals("\"tab\\t\"", q("tab\t", false));
    assertEquals("\"abc\"...", q("abc", true));
    assertEquals("\"\"", q("", false));
  }
}
