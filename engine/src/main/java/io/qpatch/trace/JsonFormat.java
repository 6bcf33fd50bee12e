package io.qpatch.trace;

import java.io.PrintStream;

/**
 * JSON lines, one object per event:
 *
 * <pre>
 * {"event":"call","tid":9747,"goid":1,"time_ns":123,"addr":"0x442160","function":"main.work","args":["0x1",...]}
 * {"event":"return","tid":9747,"goid":1,"time_ns":456,"addr":"0x442160","function":"main.work","results":["0x2",...],"duration_ns":333}
 * </pre>
 *
 * {@code goid} is absent for C/C++ and where it cannot be read; {@code decoded} is
 * present with decoded arguments; {@code duration_ns} only for a paired return.
 */
public final class JsonFormat extends LineFormat {
  public JsonFormat(PrintStream out, boolean returns) {
    super(out, returns);
  }

  @Override
  void append(TraceEvent e, StringBuilder line) {
    line.append("{\"event\":\"").append(e.isCall() ? "call" : "return").append("\",\"tid\":").append(e.tid());
    if (e.hasGoid()) line.append(",\"goid\":").append(e.goid());
    line.append(",\"time_ns\":").append(e.timeNanos());
    line.append(",\"addr\":\"0x").append(Long.toHexString(e.function().entry())).append("\",\"function\":");
    Json.quote(line, e.function().name());
    line.append(e.isCall() ? ",\"args\":" : ",\"results\":");
    Json.hexArray(line, e.values());
    if (e.decoded() != null) Json.quote(line.append(",\"decoded\":"), e.decoded());
    if (e.durationNanos() >= 0) line.append(",\"duration_ns\":").append(e.durationNanos());
    if (e.noReturnSeen()) line.append(",\"no_return_seen\":true");
    line.append('}');
  }
}
