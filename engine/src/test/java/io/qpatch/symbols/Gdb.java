package io.qpatch.symbols;

import static org.junit.jupiter.api.Assertions.fail;

import io.qpatch.testing.Toolchain;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Asks gdb, attached in batch mode, where symbols are: the reference the tests check. */
final class Gdb {
  private static final Pattern LINE = Pattern.compile("^qpatch-addr (\\S+)=(0x[0-9a-f]+)\\s*$");

  private Gdb() {}

  /**
   * Attaches to {@code pid}, prints {@code &name} for each name and detaches. A name gdb
   * does not know is missing from the result. gdb is killed if it takes over 90 s.
   */
  static Map<String, Long> addresses(long pid, String... names) {
    Toolchain.require("gdb");
    List<String> command = new ArrayList<>(List.of("gdb", "-p", Long.toString(pid), "-batch",
        "-nx", "-iex", "set debuginfod enabled off"));
    for (String name : names) {
      command.addAll(List.of("-ex", "printf \"qpatch-addr " + name + "=%p\\n\", &" + name));
    }
    Process gdb = null;
    try {
      gdb = new ProcessBuilder(command).redirectErrorStream(true).start();
      gdb.getOutputStream().close();
      String out = new String(gdb.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!gdb.waitFor(90, TimeUnit.SECONDS)) fail("gdb did not finish");
      return parse(out);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } finally {
      if (gdb != null) gdb.destroyForcibly();
    }
  }

  private static Map<String, Long> parse(String out) {
    Map<String, Long> result = new HashMap<>();
    for (String line : out.lines().toList()) {
      Matcher m = LINE.matcher(line);
      if (m.find()) result.put(m.group(1), Long.parseUnsignedLong(m.group(2).substring(2), 16));
    }
    return result;
  }
}
