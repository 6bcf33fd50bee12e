package io.qpatch.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SchedTest {
  @Test
  void sched_param_is_one_int_as_in_the_header() {
    assertEquals(4, Sched.PARAM_LAYOUT.byteSize(), "struct sched_param");
  }

  @Test
  void a_thread_can_go_real_time_and_back_when_allowed_and_is_left_alone_when_not() throws Exception {
    int[] seen = new int[3];
    Thread t = Thread.ofPlatform().start(() -> {
      seen[0] = Sched.policy();
      int r = Sched.setPolicy(Sched.SCHED_FIFO, 1);
      seen[1] = r == 0 ? Sched.policy() : r;
      Sched.setPolicy(Sched.SCHED_OTHER, 0);
      seen[2] = Sched.policy();
    });
    t.join();
    assertEquals(Sched.SCHED_OTHER, seen[0]);
    assertTrue(seen[1] == Sched.SCHED_FIFO || seen[1] == -Errno.EPERM, "FIFO or EPERM: " + seen[1]);
    assertEquals(Sched.SCHED_OTHER, seen[2]);
    assertEquals(Sched.SCHED_OTHER, Sched.policy(), "the test's own thread is untouched");
  }
}
