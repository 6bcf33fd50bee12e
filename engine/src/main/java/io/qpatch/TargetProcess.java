package io.qpatch;

import io.qpatch.arch.x86_64.Decoder;
import io.qpatch.arch.x86_64.Instruction;
import io.qpatch.error.RefusedException;
import io.qpatch.patch.PatchStatus;
import io.qpatch.patch.Patcher;
import io.qpatch.proc.Mapping;
import io.qpatch.proc.Target;
import io.qpatch.proc.ThreadInfo;
import io.qpatch.symbols.Module;
import io.qpatch.symbols.ProcessSymbols;
import io.qpatch.symbols.ResolvedSymbol;
import io.qpatch.trace.Breakpoints;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A live process, as scripts and the shell see it: threads, modules, symbols, memory,
 * disassembly and remote calls, by name where a name makes sense; patches ({@link #apply},
 * {@link #rollback}); scripted breakpoints ({@link #onCall}, served by {@link #run}) and
 * traces ({@link #trace}). Made by {@link Qpatch#attach} or {@link Qpatch#launch}; {@link
 * #close()} (or {@link #detach()}) takes every breakpoint out and lets the process go as it
 * was. The low-level {@link Target} is {@link #target()}.
 *
 * <p>Errors are the command line's one-line messages ({@link
 * io.qpatch.error.QpatchException}).
 */
public final class TargetProcess implements AutoCloseable {
  private final Target target;
  private ProcessSymbols symbols;
  private Patcher patcher;
  private final Callbacks callbacks = new Callbacks();
  private final CallBreakpoints calls;

  TargetProcess(Target target) {
    this.target = target;
    this.calls = new CallBreakpoints(target, callbacks);
  }

  /** The low-level process control this is built on. */
  public Target target() {
    return target;
  }

  /** The process id. */
  public int pid() {
    return target.pid();
  }

  /** Every thread: tid, name, state, and pc when the process is stopped. */
  public List<ThreadInfo> threads() {
    callbacks.refuseInCallback("threads()");
    return target.threads();
  }

  /**
   * Every thread with its state as it runs and its pc, read in one brief stop of the
   * whole process (well under a millisecond): what {@code qpatch info} prints.
   */
  public List<ThreadInfo> snapshot() {
    callbacks.refuseInCallback("snapshot()");
    java.util.Map<Integer, Character> states = new java.util.HashMap<>();
    for (ThreadInfo t : target.threads()) states.put(t.tid(), t.state()); // as it runs, before the stop
    List<ThreadInfo> out = new java.util.ArrayList<>();
    try (Target.Stopped stopped = target.stop()) {
      for (ThreadInfo t : target.threads()) out.add(new ThreadInfo(t.tid(), t.name(), states.getOrDefault(t.tid(), '?'), t.pc()));
    }
    return out;
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

  /** {@code length} bytes at {@code address}; fails naming the address if any is unmapped. */
  public byte[] read(long address, int length) {
    return target.read(address, length);
  }

  /** {@code length} bytes at the address of {@code symbol}. */
  public byte[] read(String symbol, int length) {
    return read(sym(symbol), length);
  }

  /** The little-endian 64-bit value at {@code address}. */
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

  /**
   * The patch engine on this process, for what the shortcuts above do not cover. The first
   * in this JVM rehearses on a scratch process first ({@link io.qpatch.patch.Rehearsal#once}),
   * as the command lines do, so that this process's stops do not pay for a cold JVM.
   */
  public Patcher patcher() {
    callbacks.refuseInCallback("the patch methods");
    if (patcher == null) {
      io.qpatch.patch.Rehearsal.once();
      patcher = new Patcher(target);
    }
    return patcher;
  }

  // ---- breakpoints and tracing ----------------------------------------------------

  /**
   * A scripted breakpoint on function {@code symbol} ({@code "malloc"}, {@code
   * "libc.so.6!malloc"}): while the script waits in {@link #run}, {@code callback} runs at
   * every call, on the script's thread, the calling thread held meanwhile. It can read the
   * arguments and memory, change arguments, make the function return a value without
   * running it ({@link Call#returnValue}), or see and change its result ({@link
   * Call#onReturn}). For C and C++ functions (System V calling convention).
   *
   * <p>Calls made while the script does something else go through untouched (counted in
   * {@link OnCall#missed()}): callbacks never run concurrently with the script. A callback
   * that throws is reported once (one line, with the symbol) and counted; the breakpoint
   * stays. Inside a callback use the {@link Call}: this object's stop, call, threads or
   * patch methods would wait for the tracer thread, which waits for the callback, and are
   * refused. A child the process forks while a breakpoint is planted gets the original
   * bytes back and is let go (a vfork child, which shares the memory, is answered until it
   * execs); its calls are not reported.
   */
  public OnCall onCall(String symbol, Consumer<Call> callback) {
    callbacks.refuseInCallback("onCall");
    ResolvedSymbol s = resolve(symbol);
    String main = symbols().mainProgram().map(Module::path).orElse(s.module().path());
    return calls.add(symbol, s.address(), List.of(s.module().path(), main), callback);
  }

  /**
   * Runs the {@link #onCall} callbacks for {@code seconds}, or until the process exits,
   * answering hits at full speed (a blocking event loop on the tracer thread). Returns true
   * while the process lives.
   */
  public boolean run(double seconds) {
    callbacks.refuseInCallback("run");
    callbacks.serve(() -> Breakpoints.serve(target, (long) (seconds * 1e9), () -> false));
    return isAlive();
  }

  /**
   * A trace of the functions of the main program whose name {@code filterRegex} finds
   * ({@code "main\\..*"}, {@code "^work"}); nothing runs until {@link Trace#forSeconds} or
   * {@link Trace#until}. Not while {@link #onCall} breakpoints are planted.
   */
  public Trace trace(String filterRegex) {
    return new Trace(this, filterRegex);
  }

  /** Where this process's script callbacks run (see {@link Callbacks}). */
  Callbacks callbacks() {
    return callbacks;
  }

  /** The target for a trace about to run: refused while scripted breakpoints are planted. */
  Target beforeTrace() {
    callbacks.refuseInCallback("trace");
    if (calls.any()) {
      throw new RefusedException("pid " + pid() + " has onCall breakpoints planted: remove() them"
          + " before tracing (a trace and scripted breakpoints cannot share the process)");
    }
    calls.removeAll();
    return target;
  }

  /** True while the process still has a live thread. */
  public boolean isAlive() {
    return target.isAlive();
  }

  // ---- control ----------------------------------------------------------------------

  /** Stops every thread; close the result (or call {@link #resume()}) to let them go. */
  public Target.Stopped stop() {
    callbacks.refuseInCallback("stop()");
    return target.stop();
  }

  /** Undoes one {@link #stop()}; also lets a launched program start. */
  public void resume() {
    target.resume();
  }

  /**
   * Calls {@code function} in the process with integer arguments and returns its result.
   * Every thread is held for the call; the caller's registers are restored after it. Not
   * while {@link #onCall} breakpoints are planted.
   */
  public long call(String function, long... args) {
    callbacks.refuseInCallback("call()");
    if (calls.any()) {
      throw new RefusedException("pid " + pid() + " has onCall breakpoints planted: remove() them"
          + " before p.call (a remote call cannot stop at a breakpoint)");
    }
    long address = sym(function);
    try (Target.Stopped s = target.stop()) {
      return target.callFunction(address, args);
    }
  }

  /** Takes every breakpoint out and lets the process go, exactly as it was. */
  public void detach() {
    callbacks.refuseInCallback("detach()");
    calls.removeAll();
    target.detach();
    Qpatch.forget(this);
    refresh();
  }

  /** {@link #detach()}, for try-with-resources. */
  @Override
  public void close() {
    detach();
  }

  private ProcessSymbols symbols() {
    if (symbols == null) symbols = ProcessSymbols.of(target.pid());
    return symbols;
  }

  /** {@code TargetProcess[pid N]}. */
  @Override
  public String toString() {
    return "TargetProcess[pid " + pid() + "]";
  }
}
