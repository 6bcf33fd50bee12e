package io.qpatch.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.error.BadInputException;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProcMapsTest {
  private static final String MAPS = """
      5645aa3da000-5645aa3dc000 r--p 00000000 fe:00 260131                     /usr/bin/cat
      5645aa3dc000-5645aa3e1000 r-xp 00002000 fe:00 260131                     /usr/bin/cat
      5645df1f5000-5645df216000 rw-p 00000000 00:00 0                          [heap]
      7f4911677000-7f4911699000 rw-p 00000000 00:00 0\s
      7f4911722000-7f4911878000 r-xp 00026000 fe:00 339380                     /tmp/my dir/lib x.so (deleted)
      7f4911880000-7f4911881000 r-xs 00000000 00:01 4242                       /memfd:qpatch-code (deleted)
      7f4911890000-7f4911891000 r--p 00000000 fe:00 77                         /tmp/ leading space
      7f49118ed000-7f49118ef000 r-xp 00000000 00:00 0                          [vdso]
      7ffd1e4e0000-7ffd1e501000 rw-p 00000000 00:00 0                          [stack]
      ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
      """;

  @Test
  void parses_every_kind_of_line_the_kernel_prints() {
    List<Mapping> maps = ProcMaps.parse(MAPS, "test maps");
    assertEquals(10, maps.size());
    Mapping text = maps.get(1);
    assertEquals(0x5645aa3dc000L, text.start());
    assertEquals(0x2000, text.offset());
    assertEquals("fe:00", text.dev());
    assertEquals(260131, text.inode());
    assertTrue(text.isExecutable() && text.isFile() && !text.isWritable());
    assertEquals("cat", text.fileName());
    assertTrue(maps.get(2).isPseudo());
    assertTrue(maps.get(3).isAnonymous());
    assertEquals("", maps.get(3).path());
  }

  @Test
  void keeps_spaces_in_paths_and_recognises_deleted_files() {
    List<Mapping> maps = ProcMaps.parse(MAPS, "test maps");
    Mapping deleted = maps.get(4);
    assertTrue(deleted.isDeleted());
    assertEquals("/tmp/my dir/lib x.so", deleted.filePath());
    assertEquals("lib x.so", deleted.fileName());
    assertEquals("/tmp/ leading space", maps.get(6).path());
  }

  @Test
  void recognises_memfd_vdso_and_addresses_above_long_max() {
    List<Mapping> maps = ProcMaps.parse(MAPS, "test maps");
    Mapping memfd = maps.get(5);
    assertTrue(memfd.isMemfd() && memfd.isShared() && memfd.isDeleted());
    assertEquals("qpatch-code", memfd.memfdName());
    assertTrue(maps.get(7).isVdso());
    Mapping vsyscall = maps.get(9);
    assertTrue(vsyscall.contains(0xffffffffff600400L));
    assertFalse(vsyscall.contains(0x1000));
    assertEquals(0x1000, vsyscall.size());
  }

  @Test
  void reads_a_live_process() {
    List<Mapping> maps = ProcMaps.read((int) ProcessHandle.current().pid());
    assertTrue(maps.stream().anyMatch(m -> m.isExecutable() && m.fileName().equals("libjvm.so")),
        "the JVM maps libjvm.so executable");
    assertTrue(maps.stream().anyMatch(Mapping::isVdso));
  }

  @Test
  void missing_process_is_a_clear_error() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    int pid = (int) p.pid();
    BadInputException e = assertThrows(BadInputException.class, () -> ProcMaps.read(pid));
    assertEquals("no process with pid " + pid, e.getMessage());
    assertEquals("no process with pid -3",
        assertThrows(BadInputException.class, () -> ProcMaps.read(-3)).getMessage());
  }

  @Test
  void malformed_line_names_the_source() {
    BadInputException e = assertThrows(BadInputException.class,
        () -> ProcMaps.parse("zzzz r-xp 0 0 0\n", "/proc/1/maps"));
    assertEquals("unexpected line in /proc/1/maps: 'zzzz r-xp 0 0 0'", e.getMessage());
  }
}
