package io.qpatch.proc;

import io.qpatch.arch.x86_64.Gpr;
import io.qpatch.arch.x86_64.X86Writer;
import io.qpatch.sys.Registers;
import io.qpatch.sys.Syscall;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * The control mapping qpatch keeps in a target while it works on it: one R-X page of
 * landing-pad code and {@link #SLOTS} RW save slots, from a memfd named {@value #NAME} so
 * {@code /proc/PID/maps} shows it and a later qpatch finds it again.
 *
 * <p>Every remote system call and remote call runs through it. Before a thread is
 * redirected, its state is written to a slot as an rt_sigreturn frame ({@link SigFrame})
 * and rbx is set to the slot. If qpatch dies at any moment, the thread finishes the
 * system call or the called function and then runs into the pad, which frees the slot
 * and executes rt_sigreturn: the kernel puts every register, the signal mask and the FPU
 * state back. While qpatch lives, it stops the thread before the pad restores anything
 * and restores it with ptrace instead (exactly, including a system call to restart).
 *
 * <p>Pad ({@link #code()}; rbx = the slot, preserved by called functions per the SysV
 * psABI 3.2.1):
 *
 * <pre>
 *  0 SYSCALL_RET  syscall                ; a remote system call runs here
 *  2              ret                    ; to [rsp] = DONE, with rsp at the slot's frame
 *  3 CALL_RETURN  mov rdi, rax           ; a remote call returns here: keep its result
 *  6              mov eax, 39            ; getpid: a harmless syscall whose entry-stop
 * 11              syscall                ;   tells a live qpatch "returned"
 * 13 DONE         mov [rbx + 16], rax    ; the result, for a call made let go
 * 17              mov qword [rbx], 0     ; the slot is free
 * 24              mov eax, 15            ; rt_sigreturn, frame at rsp - 8
 * 29              syscall
 * 31              ud2
 * </pre>
 *
 * <p>Slot layout: owner word (0 = free, else kind &lt;&lt; 32 | tid), the frame address,
 * the result word, the XSAVE image at {@link #SLOT_FPSTATE}, a string argument at {@link
 * #SLOT_STRING}, and, for system calls, the frame near the
 * slot's end: a signal delivered while a thread runs the pad on that frame gets the rest
 * of the slot below it as stack.
 */
final class ControlPage {
  /** Not "qpatch:...": that name space is the loaded objects' (link.ObjectLoader). */
  static final String NAME = "qpatch-control";
  static final int CODE_SIZE = (int) io.qpatch.sys.Mman.PAGE;
  static final int SLOTS = 8;
  static final int SLOT_SIZE = 32 * 1024;
  static final long TOTAL = CODE_SIZE + (long) SLOTS * SLOT_SIZE;

  static final int SYSCALL_RET = 0, CALL_RETURN = 3, RETURNED = 13, DONE = 13;
  /** Past the slot's release: the rt_sigreturn that reads the frame in the slot just freed. */
  static final int SIGRETURN = 24;
  static final int SLOT_OWNER = 0, SLOT_FRAME = 8, SLOT_RESULT = 16, SLOT_FPSTATE = 512;
  /** After the largest XSAVE image (AVX-512: 2.7 KiB); memfd names are at most 249 bytes. */
  static final int SLOT_STRING = 4096, SLOT_STRING_SIZE = 512;
  static final int SLOT_SIGFRAME = SLOT_SIZE - 512;

  /** Owner kinds: a system call's frame is in the slot, a call's on the thread's stack. */
  static final int KIND_SYSCALL = 1, KIND_CALL = 2;

  final long base;

  ControlPage(long base) {
    this.base = base;
  }

  /** The pad's bytes; position-independent, so the same at every address. */
  static byte[] code() {
    X86Writer w = new X86Writer(0);
    w.putSyscall();
    w.putRet();
    w.putMovRegReg(Gpr.RDI, Gpr.RAX);
    w.putMovReg32Imm32(Gpr.RAX, Syscall.GETPID);
    w.putSyscall();
    w.putBytes((byte) 0x48, (byte) 0x89, (byte) 0x43, (byte) SLOT_RESULT); // mov [rbx + 16], rax
    w.putMovMemBaseImm32(Gpr.RBX, 0);
    w.putMovReg32Imm32(Gpr.RAX, Syscall.RT_SIGRETURN);
    w.putSyscall();
    w.putUd2();
    return w.bytes();
  }

  long syscallRet() {
    return base + SYSCALL_RET;
  }

  long callReturn() {
    return base + CALL_RETURN;
  }

  /** Where a call's getpid entry-stop reports rip: right after that syscall. */
  long returned() {
    return base + RETURNED;
  }

  long done() {
    return base + DONE;
  }

  long slot(int i) {
    return base + CODE_SIZE + (long) i * SLOT_SIZE;
  }

  boolean containsCode(long pc) {
    return pc >= base && pc < base + CODE_SIZE;
  }

  /**
   * Takes a free slot for thread {@code tid} (its owner word 0: only qpatch sets it,
   * only the pad or qpatch clears it). Returns its index, or -1 when all are taken
   * (threads of killed qpatch runs still in the middle of a call).
   */
  int claim(Memory memory, int tid, int kind, long frame) {
    for (int i = 0; i < SLOTS; i++) {
      if (owner(memory, i) != 0) continue;
      memory.write(slot(i) + SLOT_OWNER, longs((long) kind << 32 | tid, frame));
      return i;
    }
    return -1;
  }

  void free(Memory memory, int i) {
    memory.write(slot(i) + SLOT_OWNER, longs(0));
  }

  long owner(Memory memory, int i) {
    return le(memory.read(slot(i) + SLOT_OWNER, 8), 0);
  }

  /** The result a call made let go left in slot {@code i} (read once the slot is free). */
  long result(Memory memory, int i) {
    return le(memory.read(slot(i) + SLOT_RESULT, 8), 0);
  }

  long frame(Memory memory, int i) {
    return le(memory.read(slot(i) + SLOT_FRAME, 8), 0);
  }

  /**
   * Each slot's owner word and frame address, as read at one moment, and for a call's slot
   * the word at its frame: the return address into the pad while the called function runs
   * (a function never overwrites its own return address), anything else once the thread is
   * back on its own stack and has reused those bytes.
   */
  record SlotWords(long[] owners, long[] frames, long[] returnAddresses) {}

  SlotWords slotWords(Memory memory) {
    long[] owners = new long[SLOTS], frames = new long[SLOTS], returns = new long[SLOTS];
    for (int i = 0; i < SLOTS; i++) {
      owners[i] = owner(memory, i);
      frames[i] = frame(memory, i);
      if (owners[i] >>> 32 == KIND_CALL) returns[i] = wordAt(memory, frames[i]);
    }
    return new SlotWords(owners, frames, returns);
  }

  private static long wordAt(Memory memory, long address) {
    try {
      return le(memory.read(address, 8), 0);
    } catch (RuntimeException e) {
      return 0;  // unmapped: no call can be running on it
    }
  }

  /**
   * True when no thread can still need the page, given the slots' words ({@link #slotWords})
   * and, read after them, the registers of every live thread ({@code regs}): none runs its
   * code, and each taken slot's owner is gone, or is past its system call (it is not in
   * the pad), or is back above its call's frame, or its frame no longer holds the return
   * address into the pad (the call returned or was abandoned, and the thread went on, deeper
   * into its own stack maybe). Only a thread of a killed qpatch run that is still inside the
   * called function keeps the page.
   */
  boolean idle(SlotWords slotWords, java.util.Map<Integer, Registers> regs) {
    for (Registers r : regs.values()) {
      if (containsCode(r.rip())) return false;
    }
    long[] owners = slotWords.owners(), frames = slotWords.frames();
    for (int i = 0; i < SLOTS; i++) {
      Registers r = regs.get((int) owners[i]);
      if (owners[i] != 0 && r != null && owners[i] >>> 32 == KIND_CALL && r.rsp() <= frames[i]
          && slotWords.returnAddresses()[i] == callReturn()) {
        return false;
      }
    }
    return true;
  }

  /**
   * The control page in {@code maps}: a {@value #NAME} memfd mapping, R-X, one page, with
   * our pad code, followed by its RW slots. Null when there is none (or only one of an
   * older qpatch, whose pad we do not know).
   */
  static ControlPage find(List<Mapping> maps, Memory memory) {
    for (int i = 0; i + 1 < maps.size(); i++) {
      Mapping code = maps.get(i), slots = maps.get(i + 1);
      if (!isOurs(code) || !code.isExecutable() || code.size() != CODE_SIZE) continue;
      if (!isOurs(slots) || slots.start() != code.end() || !slots.isWritable()
          || slots.size() != TOTAL - CODE_SIZE) {
        continue;
      }
      byte[] pad = code();
      if (Arrays.equals(pad, memory.read(code.start(), pad.length))) {
        return new ControlPage(code.start());
      }
    }
    return null;
  }

  static boolean isOurs(Mapping m) {
    return m.memfdName().equals(NAME);
  }

  static byte[] longs(long... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) b.putLong(v);
    return b.array();
  }

  static long le(byte[] bytes, int offset) {
    return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(offset);
  }
}
