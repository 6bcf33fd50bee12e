package io.qpatch.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.Section;
import io.qpatch.error.BadInputException;
import io.qpatch.proc.Mapping;
import io.qpatch.proc.Target;
import io.qpatch.testing.LiveProcess;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad objects are refused with one line naming the file and the problem, and the target's
 * memory map is exactly as before.
 */
class BadInputLiveTest {
  @TempDir Path tmp;

  /** Opens and loads {@code object} into a fresh target; returns the refusal's message. */
  private String refusal(Path object) {
    ObjectLoaderLiveTest.Started s = ObjectLoaderLiveTest.startTarget(tmp);
    try (LiveProcess p = s.process(); Target t = Target.attach(p.pid());
        Target.Stopped stopped = t.stop()) {
      List<Mapping> before = t.maps();
      long near = ObjectLoaderLiveTest.near(p.pid());
      BadInputException e = assertThrows(BadInputException.class, () -> {
        try (ElfFile elf = ElfFile.open(object)) {
          LinkFixtures.load(t, elf, LinkOptions.named("bad"), near);
        }
      });
      assertEquals(before, t.maps(), "memory map changed");
      assertEquals(1, e.getMessage().lines().count(), e.getMessage());
      assertTrue(e.getMessage().contains(object.getFileName().toString()), e.getMessage());
      return e.getMessage().replace(object.toString(), object.getFileName().toString())
          .replace("process " + p.pid(), "process PID");
    }
  }

  private Path copy(Path object, String name) throws IOException {
    Path out = tmp.resolve(name);
    Files.copy(object, out);
    return out;
  }

  @Test
  void undefinedSymbol() {
    Path o = LinkFixtures.cObject("cpatch", "extern int foo(void); int bar(void) { return foo(); }\n");
    assertEquals("cpatch.o: undefined symbol 'foo' not found in process PID", refusal(o));
  }

  @Test
  void threadLocalTheTargetLacksThroughTlsgd() {
    Path o = LinkFixtures.cObject("tlsgd",
        "extern __thread int no_such_tls; int get(void) { return no_such_tls; }\n", "-fPIC");
    assertEquals("tlsgd.o: thread-local 'no_such_tls' is not a __thread variable of the"
        + " executable of process PID (a patch reaches only the executable's own"
        + " thread-locals)", refusal(o));
  }

  @Test
  void unsupportedRelocation() {
    Path o = LinkFixtures.cObject("tlsdesc",
        "extern __thread int tls_counter; int get(void) { return tls_counter; }\n", "-fPIC",
        "-mtls-dialect=gnu2");
    assertTrue(refusal(o).matches("tlsdesc\\.o: relocation R_X86_64_GOTPC32_TLSDESC at \\.text"
        + "\\+0x[0-9a-f]+ \\(symbol tls_counter\\) is not supported: TLS descriptors are not"
        + " supported; compile with -mtls-dialect=gnu"));
  }

  @Test
  void dataOutOfReachOfNonPicCode() {
    Path o = LinkFixtures.cObject("fardata",
        "extern char **environ; char *first(void) { return environ[0]; }\n", "-O2");
    assertTrue(refusal(o).matches("fardata\\.o: relocation R_X86_64_PC32 at \\.text\\+0x[0-9a-f]+"
        + " \\(symbol environ\\) overflows: .* compile the patch with -fPIC"));
  }

  @Test
  void absoluteAddressesOfNonPieCode() {
    Path o = LinkFixtures.cObject("nopie",
        "const char *name(void) { return \"x\"; }\n", "-O2", "-fno-pie");
    assertTrue(refusal(o).startsWith("nopie.o: relocation R_X86_64_32 at .text+0x1 (symbol"
        + " .rodata.str1.1) overflows"));
  }

  @Test
  void truncatedObject() throws IOException {
    Path good = LinkFixtures.cObject("cut", "int f(int x) { return x + 1; }\n");
    Path cut = tmp.resolve("cut.o");
    byte[] all = Files.readAllBytes(good);
    Files.write(cut, java.util.Arrays.copyOf(all, all.length / 2));
    assertTrue(refusal(cut).startsWith("cut.o: "));
  }

  @Test
  void relocationNamingASymbolThatDoesNotExist() throws IOException {
    Path o = copy(LinkFixtures.cObject("badsym", "extern int g; int f(void) { return g; }\n"),
        "badsym.o");
    long rela;
    try (ElfFile elf = ElfFile.open(o)) {
      Section s = elf.section(".rela.text").orElseThrow();
      rela = s.offset();
    }
    byte[] bytes = Files.readAllBytes(o);
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt((int) rela + 12, 0x7fff);
    Files.write(o, bytes);
    assertTrue(refusal(o).matches("badsym\\.o: .*relocation \\[0\\].* refers to symbol 32767.*"));
  }

  @Test
  void executableInsteadOfObject() {
    Path exe = io.qpatch.testing.Fixtures.c("notobj", "int main(void) { return 0; }\n");
    assertEquals("notobj: not a relocatable object (ELF type DYN); build the patch with gcc -c or"
        + " g++ -c", refusal(exe));
  }

  @Test
  void notElf() throws IOException {
    Path text = tmp.resolve("notes.o");
    Files.writeString(text, "this is not an object file\n");
    assertEquals("notes.o: not an ELF file", refusal(text));
  }

  @Test
  void secondObjectWithTheSameName() {
    Path o = LinkFixtures.cObject("twice", "int f(int x) { return x + 1; }\n");
    ObjectLoaderLiveTest.Started s = ObjectLoaderLiveTest.startTarget(tmp);
    try (LiveProcess p = s.process(); Target t = Target.attach(p.pid());
        Target.Stopped stopped = t.stop(); ElfFile elf = ElfFile.open(o)) {
      long near = ObjectLoaderLiveTest.near(p.pid());
      LinkFixtures.load(t, elf, LinkOptions.named("same"), near);
      List<Mapping> before = t.maps();
      BadInputException e = assertThrows(BadInputException.class,
          () -> LinkFixtures.load(t, elf, LinkOptions.named("same"), near));
      assertTrue(e.getMessage().startsWith("process " + p.pid() + " already has an object named"
          + " 'same' loaded"), e.getMessage());
      assertEquals(before, t.maps());
    }
  }
}
