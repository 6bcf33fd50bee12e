package io.qpatch.patch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class RehearsalTest {
  @Test
  void the_rehearsal_runs_every_step_on_its_scratch_process_and_leaves_no_process_behind() {
    // the tracer's waker (a sleep of its own that lives as long as this JVM) is not the
    // rehearsal's: started first, it is among the children before
    io.qpatch.proc.Tracer.get().serveEvents(() -> true);
    List<Long> before = children();
    long ms = Rehearsal.run();
    assertTrue(ms >= 0, "the rehearsal failed");
    assertEquals(before, children());
  }

  /** The probe object it loads is in the build, a relocatable x86-64 ELF: no rehearsal skips its loader step. */
  @Test
  void the_native_helpers_probe_object_is_built_in() {
    byte[] probe = Rehearsal.probeBytes();
    io.qpatch.elf.ElfFile elf = io.qpatch.elf.ElfFile.of("qpatch_probe.o", probe);
    assertEquals(io.qpatch.elf.ElfType.REL, elf.header().type());
    assertEquals(io.qpatch.elf.ElfHeader.EM_X86_64, elf.header().machine());
  }

  private static List<Long> children() {
    return ProcessHandle.current().children().map(ProcessHandle::pid).sorted().toList();
  }
}
