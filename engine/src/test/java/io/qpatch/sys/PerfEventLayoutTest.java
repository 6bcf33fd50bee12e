package io.qpatch.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemoryLayout.PathElement;
import org.junit.jupiter.api.Test;

/** perf_event_attr against linux/perf_event.h (PERF_ATTR_SIZE_VER7 and field offsets). */
class PerfEventLayoutTest {
  private static long offset(String field) {
    return PerfEvent.ATTR.byteOffset(PathElement.groupElement(field));
  }

  @Test
  void attr_is_version_7_with_the_headers_offsets() {
    assertEquals(128, PerfEvent.ATTR.byteSize(), "PERF_ATTR_SIZE_VER7");
    assertEquals(8, offset("config"));
    assertEquals(24, offset("sample_type"));
    assertEquals(40, offset("flags"));
    assertEquals(48, offset("wakeup_events"));
    assertEquals(56, offset("config1"));
    assertEquals(64, offset("config2"));
    assertEquals(80, offset("sample_regs_user"));
    assertEquals(92, offset("clockid"));
    assertEquals(120, offset("sig_data"));
  }
}
