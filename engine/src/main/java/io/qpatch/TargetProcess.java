package io.qpatch;

import io.qpatch.arch.x86_64.Decoder;
import io.qpatch.arch.x86_64.Instruction;
import io.qpatch.patch.PatchStatus;
import io.qpatch.patch.Patcher;
import io.qpatch.proc.Mapping;
import io.qpatch.proc.Target;
import io.qpatch.proc.ThreadInfo;
import io.qpatch.symbols.Module;
import io.qpatch.symbols.ProcessSymbols;
import io.qpatch.symbols.ResolvedSymbol;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A live process, as scripts and the shell see it: threads, modules, symbols, memory,
 * disassembly and remote calls, by name where a name makes sense. Made by {@link
 * Qpatch#attach} or {@link Qpatch#launch}; {@link #close()} (or {@link #detach()}) lets the
 * process go as it was. The low-level {@link Target} is {@link #target()}.
 *
 * <p>Errors are the command line's one-line messages ({@link
 * io.qpatch.error.QpatchException}).
 */
public final class TargetProcess implements AutoCloseable {
  private final Target target;
  private ProcessSymbols symbols;
  private Patcher patcher;

  TargetProcess(Target target) {
    this.target = target;
  }

  /** The low-level process control this is built on. */
  public Target target() {
    return target;
  }

  public int pid() {
    return target.pid();
  }

  /** Every thread: tid, name, state, and pc when the process is stopped. */
  public List<ThreadInfo> threads() {
    return target.threads();
  }

  /** Every mapped module (executable, libraries, vDSO) in the dynamic linker's order. */
  public List<Module> modules() {
    return symbols().modules();
  }

  /** The memory map, as /proc/PID/maps shows it. */
  public List<Mapping> maps() {
    return target.maps();
  }

  /** Address of {@code name} ({@code "sleep"}, {@code "libc.so.6!sleep"}). */
  public long sym(String name) {
    return resolve(name).address();
  }

  /** The symbol, its module and address, for {@code name}. */
  public ResolvedSymbol resolve(String name) {
    return symbols().lookup(name);
  }

  /** {@code address} as {@code module!symbol+0xoff}. */
  public String where(long address) {
    return symbols().describe(address);
  }

  /** Re-reads modules and symbols: after the process loaded or unloaded a library. */
  public TargetProcess refresh() {
    if (symbols != null) symbols.close();
    symbols = null;
    return this;
  }

  // ---- memory -----------------------------------------------------------------------

  public byte[] read(long address, int length) {
    return target.read(address, length);
  }

  public byte[] read(String symbol, int length) {
    return read(sym(symbol), length);
  }

  public long readLong(long address) {
    return target.readLong(address);
  }

  /** Writes bytes; stop the process first when they are code other threads may run. */
  public void write(long address, byte[] bytes) {
    target.write(address, bytes);
  }

  // ---- code -------------------------------------------------------------------------

  /** The first {@code count} instructions at {@code address}. */
  public List<Instruction> disasm(long address, int count) {
    byte[] code = target.read(address, Math.min(count * Decoder.MAX_INSTRUCTION_LENGTH, 4096));
    List<Instruction> all = Decoder.shared().decodeAll(code, address);
    return all.subList(0, Math.min(count, all.size()));
  }

  /** The first {@code count} instructions of function {@code symbol}. */
  public List<Instruction> disasm(String symbol, int count) {
    return disasm(sym(symbol), count);
  }

  /** Disassembly as text, one instruction a line, each with its symbol+offset. */
  public String listing(String symbol, int count) {
    List<String> lines = new ArrayList<>();
    for (Instruction i : disasm(symbol, count)) lines.add(where(i.address()) + "  " + i);
    return String.join("\n", lines);
  }

  // ---- patches ----------------------------------------------------------------------

  /**
   * Loads a patch object ({@code gcc -c}) into the process without redirecting anything
   * yet; the same as {@code qpatch -o PATCH.o -p PID -l}.
   */
  public PatchStatus load(String objectFile) {
    return patcher().load(Path.of(objectFile));
  }

  /** Activates a loaded patch: its functions take over ({@code -a}). */
  public PatchStatus activate(String objectFile) {
    return patcher().activate(Path.of(objectFile));
  }

  /** Loads and activates in one stop ({@code qpatch apply}). */
  public PatchStatus apply(String objectFile) {
    return patcher().apply(Path.of(objectFile));
  }

  /** Deactivates and unloads a patch, restoring every byte ({@code -r}). */
  public Patcher.RollbackResult rollback(String objectFile) {
    return patcher().rollback(Path.of(objectFile));
  }

  /** Every patch in the process with its state and functions ({@code -q}). */
  public Patcher.Query patches() {
    return patcher().query();
  }

  /** The patch engine on this process, for what the shortcuts above do not cover. */
  public Patcher patcher() {
    if (patcher == null) patcher = new Patcher(target);
    return patcher;
  }

  // ---- control ----------------------------------------------------------------------

  /** Stops every thread; close the result (or call {@link #resume()}) to let them go. */
  public Target.Stopped stop() {
    return target.stop();
  }

  public void resume() {
    target.resume();
  }

  /**
   * Calls {@code function} in the process with integer arguments and returns its result.
   * Every thread is held for the call; the caller's registers are restored after it.
   */
  public long call(String function, long... args) {
    long address = sym(function);
    try (Target.Stopped s = target.stop()) {
      return target.callFunction(address, args);
    }
  }

  /** Lets the process go, exactly as it was. */
  public void detach() {
    target.detach();
    Qpatch.forget(this);
    refresh();
  }

  @Override
  public void close() {
    detach();
  }

  private ProcessSymbols symbols() {
    if (symbols == null) symbols = ProcessSymbols.of(target.pid());
    return symbols;
  }

  @Override
  public String toString() {
    return "TargetProcess[pid " + pid() + "]";
  }
}
