package io.qpatch.patch;

import io.qpatch.error.BadInputException;
import io.qpatch.symbols.Module;
import io.qpatch.symbols.ProcessSymbols;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Whether a patch may go into a process at all: its architecture and, if the patch says, its build. */
final class TargetChecks {
  /** e_ident[EI_CLASS] ELFCLASS64 and e_machine EM_X86_64 (elf.h). */
  private static final int ELFCLASS64 = 2;
  private static final int EM_X86_64 = 62;

  private TargetChecks() {}

  /** Refuses a process whose program is not x86-64 (an i386 program on an x86-64 kernel, say). */
  static void requireX86_64(int pid) {
    byte[] ident = new byte[20];
    try (InputStream in = Files.newInputStream(Path.of("/proc", "" + pid, "exe"))) {
      if (in.readNBytes(ident, 0, ident.length) < ident.length) return;
    } catch (IOException e) {
      return; // unreadable (a kernel thread, a vanished process): attaching reports it better
    }
    int machine = (ident[18] & 0xff) | (ident[19] & 0xff) << 8;
    if (ident[4] != ELFCLASS64 || machine != EM_X86_64) {
      throw new BadInputException("pid " + pid + " runs a program for "
          + io.qpatch.elf.ElfHeader.machineName(machine) + (ident[4] != ELFCLASS64 ? ", 32-bit" : "")
          + "; qpatch patches x86-64 processes only");
    }
  }

  /**
   * When the patch names build-ids ({@code QPATCH_TARGET_BUILD_ID}), one module of the
   * process must have one of them: a patch compiled against another build of the program
   * would read its structures at the wrong offsets.
   */
  static void requireBuild(PatchObject object, ProcessSymbols symbols) {
    List<String> wanted = object.targetBuildIds();
    if (wanted.isEmpty()) return;
    for (Module m : symbols.modules()) {
      Optional<String> id = buildId(m);
      if (id.isPresent() && wanted.contains(id.get())) return;
    }
    String main = symbols.mainProgram().flatMap(TargetChecks::buildId)
        .map(i -> "; its program has build-id " + i).orElse("");
    throw new BadInputException(object.name() + " is built for build-id " + String.join(" or ", wanted)
        + ", which no module of pid " + symbols.pid() + " has" + main
        + " (rebuild the patch against the running program)");
  }

  private static Optional<String> buildId(Module m) {
    try {
      return m.buildId();
    } catch (BadInputException e) {
      return Optional.empty();
    }
  }
}
