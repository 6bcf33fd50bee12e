package io.qpatch.trace;

/** Minimal JSON string quoting (RFC 8259, section 7) for the JSON formats. */
public final class Json {
  private Json() {}

  public static StringBuilder quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
          else sb.append(c);
        }
      }
    }
    return sb.append('"');
  }

  static StringBuilder hexArray(StringBuilder sb, long[] values) {
    sb.append('[');
    for (int i = 0; i < values.length; i++) {
      if (i > 0) sb.append(',');
      sb.append("\"0x").append(Long.toHexString(values[i])).append('"');
    }
    return sb.append(']');
  }
}
