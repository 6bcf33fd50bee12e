package io.qpatch.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.testing.Fixtures;
import io.qpatch.testing.GoToolchains;
import io.qpatch.testing.LiveProcess;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A real Go HTTP server (net/http) under load from ab, attached to while it serves:
 * every request's handler call and return is traced with the goroutine it ran on (the
 * return paired with its call, its result that of the call's argument), no request fails,
 * and the server serves on after the detach. The handler passes its own goroutine id
 * (from runtime.Stack) as main.handle's argument, so each line carries its own proof.
 */
class GoServerTraceTest {
  private static final int REQUESTS = 2000;

  static final String SERVER = """
      package main

      import (
      	"fmt"
      	"net"
      	"net/http"
      	"runtime"
      	"strconv"
      	"strings"
      )

      //go:noinline
      func handle(goid int) int {
      	return goid * 2
      }

      """ + GoPrograms.GOID + """
      func main() {
      	ln, err := net.Listen("tcp", "127.0.0.1:0")
      	if err != nil {
      		panic(err)
      	}
      	fmt.Printf("port %d\\n", ln.Addr().(*net.TCPAddr).Port)
      	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
      		fmt.Fprintf(w, "%012d\\n", handle(goid())) // one length: ab counts a different one as failed
      	}))
      }
      """;

  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"ptrace", "uprobe", "inproc"})
  void a_go_http_server_under_ab_load_is_traced_with_every_goid_and_serves_on(String backend) throws Exception {
    Fixtures.requireTool("ab");
    Path server = GoToolchains.newest().build("http-server", SERVER);
    try (LiveProcess p = LiveProcess.start(tmp.resolve("server.txt"), server.toString())) {
      Matcher port = Pattern.compile("port (\\d+)").matcher(p.awaitOutput(o -> o.contains("\n"), Duration.ofSeconds(10)));
      assertTrue(port.find(), p.output());
      String url = "http://127.0.0.1:" + port.group(1) + "/";
      double untraced = load(url, REQUESTS);
      CollectingSink sink = new CollectingSink();
      Selection sel = new Selection(Optional.of(Pattern.compile("^main\\.handle$")), Optional.empty(), true, true);
      TraceSession s = TraceSession.attach(p.pid(), new TraceConfig(sel, Optional.of(backend), false, List.of(sink),
          new PrintStream(new ByteArrayOutputStream())));
      Thread runner = Thread.ofPlatform().start(s::run);
      double traced = load(url, REQUESTS);
      s.stop();
      runner.join();
      List<TraceEvent> calls = sink.calls("main.handle");
      assertEquals(REQUESTS, calls.size(), "one traced call per request");
      for (TraceEvent e : calls) assertEquals(e.values()[0], e.goid(), "the goid the handler saw itself");
      List<TraceEvent> returns = sink.returns("main.handle");
      assertEquals(REQUESTS, returns.size(), "one traced return per request");
      for (TraceEvent e : returns) {
        assertEquals(2 * e.goid(), e.values()[0], "the result of the call on that goroutine");
        assertTrue(e.durationNanos() >= 0, "paired with its call");
      }
      load(url, 200);
      assertTrue(p.isAlive(), "serves on after the detach");
      System.out.printf("GoServerTraceTest %s: %.0f requests/s untraced, %.0f traced (%.2f)%n", backend, untraced,
          traced, traced / untraced);
    }
  }

  /** ab -n N -c 8 against {@code url}: every request must succeed; returns requests per second. */
  private static double load(String url, int n) {
    String out = Fixtures.run(List.of("ab", "-q", "-n", Integer.toString(n), "-c", "8", url));
    Matcher complete = Pattern.compile("Complete requests:\\s+(\\d+)").matcher(out);
    Matcher failed = Pattern.compile("Failed requests:\\s+(\\d+)").matcher(out);
    Matcher rate = Pattern.compile("Requests per second:\\s+([0-9.]+)").matcher(out);
    assertTrue(complete.find() && failed.find() && rate.find(), out);
    assertEquals(n, Integer.parseInt(complete.group(1)), out);
    assertEquals(0, Integer.parseInt(failed.group(1)), out);
    assertTrue(!out.contains("Non-2xx"), out);
    return Double.parseDouble(rate.group(1));
  }
}
