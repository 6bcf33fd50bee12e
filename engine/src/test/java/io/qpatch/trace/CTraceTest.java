package io.qpatch.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.testing.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CTraceTest {
  static final String ADD6 = """
      #include <stdio.h>
      __attribute__((noinline)) long add6(long a, long b, long c, long d, long e, long f) {
        return a + b + c + d + e + f;
      }
      int main(void) {
        long s = 0;
        for (int i = 0; i < 3; i++) s += add6(1, 2, 3, 4, 5, 6 + i);
        printf("%ld\\n", s);
        return 7;
      }
      """;

  static TraceConfig config(CollectingSink sink, boolean returns, String backend) {
    Selection sel = new Selection(Optional.empty(), Optional.empty(), returns, true);
    return new TraceConfig(sel, Optional.of(backend), false, List.of(sink),
        new PrintStream(new ByteArrayOutputStream()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"ptrace", "uprobe"})
  void launched_c_program_shows_arguments_in_sysv_order_and_passes_its_exit_code(String backend) {
    Path prog = Fixtures.c("add6", ADD6, "-O1");
    CollectingSink sink = new CollectingSink();
    TraceSession session = TraceSession.launch(List.of(prog.toString()), config(sink, true, backend));
    int code = session.run();
    assertEquals(7, code);
    List<TraceEvent> calls = sink.calls("add6");
    assertEquals(3, calls.size(), sink.text());
    assertTrue(Pattern.compile("tid\\[\\d{8}\\]: \\[0x[0-9a-f]+\\] add6 <-\\( 0x1, 0x2, 0x3, 0x4, 0x5, 0x8, \\.\\.\\. \\)")
        .matcher(sink.text()).find(), sink.text());
    List<TraceEvent> rets = sink.returns("add6");
    assertEquals(3, rets.size());
    assertEquals(21, rets.get(0).values()[0]);
    assertTrue(rets.get(0).durationNanos() >= 0);
    assertEquals(1, sink.calls("main").size());
  }
}
