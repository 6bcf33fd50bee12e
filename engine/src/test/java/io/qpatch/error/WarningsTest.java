package io.qpatch.error;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class WarningsTest {
  /** The engine reports a line; whoever listens words and places it, and gives the channel back. */
  @Test
  void lines_go_to_the_listener_until_it_gives_the_channel_back() {
    List<String> got = new ArrayList<>();
    Consumer<String> mine = got::add;
    Consumer<String> before = Warnings.listen(mine);
    try {
      Warnings.warn("probe at 0x401000: boom");
    } finally {
      assertSame(mine, Warnings.listen(before));
    }
    assertEquals(List.of("probe at 0x401000: boom"), got);
  }
}
