package io.qpatch.proc;

import io.qpatch.error.SyscallException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Instruction sequences the target already has, for the system calls made before the
 * {@link ControlPage} exists (or to remove it): {@code syscall; ret} (0f 05 c3) and
 * {@code rt_sigreturn} ({@code mov rax, 15; syscall}: 48 c7 c0 0f 00 00 00 0f 05, glibc's
 * and musl's __restore_rt, Go's runtime.sigreturn; or {@code mov eax, 15; syscall}). Bytes
 * are searched, not symbols: any executable byte string decodes the same wherever it
 * starts. Without both, {@code syscallRet} is any {@code syscall} (0f 05) and {@code
 * sigreturn} is 0. {@code sigreturnEnd} is the end of the rt_sigreturn sequence found.
 */
record Gadgets(long syscallRet, long sigreturn, long sigreturnEnd) {
  private static final byte[] SYSCALL_RET = {0x0f, 0x05, (byte) 0xc3};
  private static final byte[] SIGRETURN_RAX = {0x48, (byte) 0xc7, (byte) 0xc0, 0x0f, 0, 0, 0, 0x0f, 0x05};
  private static final byte[] SIGRETURN_EAX = {(byte) 0xb8, 0x0f, 0, 0, 0, 0x0f, 0x05};
  private static final byte[] SYSCALL = {0x0f, 0x05};
  private static final long MAX_SCAN = 64 << 20;

  /** True when {@code pc} is in the rt_sigreturn sequence, before its system call was made. */
  boolean inSigreturn(long pc) {
    return sigreturn != 0 && pc >= sigreturn && pc < sigreturnEnd;
  }

  private static boolean holdsAt(Memory memory, long at, byte[] sequence) {
    return java.util.Arrays.equals(memory.read(at, sequence.length), sequence);
  }

  static Gadgets find(int pid, Memory memory) {
    long syscallRet = 0, sigreturn = 0, sigreturnEnd = 0, anySyscall = 0;
    for (Mapping m : candidates(ProcMaps.read(pid))) {
      byte[] code = read(memory, m);
      if (code == null) continue;
      if (syscallRet == 0) syscallRet = at(m, code, SYSCALL_RET);
      if (sigreturn == 0) sigreturn = at(m, code, SIGRETURN_RAX);
      if (sigreturn == 0) sigreturn = at(m, code, SIGRETURN_EAX);
      if (sigreturn != 0 && sigreturnEnd == 0) {
        sigreturnEnd = sigreturn + (holdsAt(memory, sigreturn, SIGRETURN_RAX) ? SIGRETURN_RAX : SIGRETURN_EAX).length;
      }
      if (anySyscall == 0) anySyscall = at(m, code, SYSCALL);
      if (syscallRet != 0 && sigreturn != 0) return new Gadgets(syscallRet, sigreturn, sigreturnEnd);
    }
    if (anySyscall == 0) {
      throw new IllegalStateException("no syscall instruction in any executable mapping of pid " + pid);
    }
    return new Gadgets(anySyscall, 0, 0);
  }

  /** Executable mappings, the C library and the dynamic loader first (they have both). */
  private static List<Mapping> candidates(List<Mapping> maps) {
    List<Mapping> out = new ArrayList<>();
    for (Mapping m : maps) {
      boolean lasting = (m.isFile() && !m.isMemfd()) || m.isVdso(); // not our own, which go away
      if (m.isExecutable() && m.size() <= MAX_SCAN && lasting) out.add(m);
    }
    out.sort(Comparator.comparingInt(m -> isLibc(m) ? 0 : 1));
    return out;
  }

  private static boolean isLibc(Mapping m) {
    String n = m.fileName();
    return n.startsWith("libc.so") || n.startsWith("libc-") || n.startsWith("ld-linux")
        || n.startsWith("ld-musl");
  }

  private static byte[] read(Memory memory, Mapping m) {
    try {
      return memory.read(m.start(), (int) m.size());
    } catch (SyscallException e) {
      return null; // e.g. [vsyscall], which /proc/PID/mem cannot read
    }
  }

  private static long at(Mapping m, byte[] code, byte[] pattern) {
    outer:
    for (int i = 0; i + pattern.length <= code.length; i++) {
      for (int j = 0; j < pattern.length; j++) {
        if (code[i + j] != pattern[j]) continue outer;
      }
      return m.start() + i;
    }
    return 0;
  }
}
