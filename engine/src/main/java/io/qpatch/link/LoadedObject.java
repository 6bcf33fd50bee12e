package io.qpatch.link;

import io.qpatch.proc.Mapping;
import io.qpatch.proc.Target;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * An object loaded in a process: its memory, and the addresses the patch layer needs.
 *
 * <p>Found again by a later invocation: its mappings carry the memfd name
 * "qpatch:NAME" ({@link #segmentsIn}); everything else (symbols, init/fini arrays) is the
 * caller's to record in the target if it needs it later, e.g. in {@link #reservedData()}.
 */
public final class LoadedObject {
  private final int pid;
  private final LinkPlan plan;

  LoadedObject(int pid, LinkPlan plan) {
    this.pid = pid;
    this.plan = plan;
  }

  public int pid() {
    return pid;
  }

  /** The name given in {@link LinkOptions}; the memfd is "qpatch:" + name. */
  public String name() {
    return plan.options().name();
  }

  /** The link result: bytes, symbols, externals. */
  public LinkPlan plan() {
    return plan;
  }

  public long base() {
    return plan.base();
  }

  public long size() {
    return plan.size();
  }

  public List<Segment> segments() {
    return plan.segments();
  }

  public long address(String symbol) {
    return plan.address(symbol);
  }

  public OptionalLong find(String symbol) {
    return plan.find(symbol);
  }

  public Map<String, Long> symbols() {
    return plan.symbols();
  }

  public Map<String, Long> functions() {
    return plan.functions();
  }

  public List<Long> initArray() {
    return plan.initArray();
  }

  public List<Long> finiArray() {
    return plan.finiArray();
  }

  public long dsoHandle() {
    return plan.dsoHandle();
  }

  /**
   * Does in the stopped target what ld.so does when it loads an object: registers the
   * object's .eh_frame with the unwinder (libgcc {@code __register_frame}, when the target
   * has libgcc_s, as every C++ program does) so C++ exceptions can pass through and be
   * caught in patch code, then runs the static constructors ({@link #initArray()}, in
   * order). glibc passes argc, argv and envp to init_array entries; the constructors gcc
   * and g++ emit take no arguments, so none are passed.
   */
  public void runConstructors(Target target) {
    if (plan.ehFrame() != 0 && plan.registerFrame() != 0) {
      target.callFunction(plan.registerFrame(), plan.ehFrame());
    }
    for (long entry : initArray()) target.callFunction(entry);
  }

  /**
   * Runs the destructors in the stopped target, in the order dlclose would: the .fini_array
   * entries last to first, then {@code __cxa_finalize(&__dso_handle)}, which runs the
   * destructors C++ static objects registered with __cxa_atexit (crtstuff.c,
   * __do_global_dtors_aux, calls it from the first .fini_array entry, hence last), and
   * last takes the .eh_frame back from the unwinder: it must not be unmapped while
   * registered, or the next exception anywhere in the target would read freed memory.
   */
  public void runDestructors(Target target) {
    List<Long> fini = finiArray();
    for (int i = fini.size() - 1; i >= 0; i--) target.callFunction(fini.get(i));
    if (dsoHandle() != 0 && plan.cxaFinalize() != 0) {
      target.callFunction(plan.cxaFinalize(), dsoHandle());
    }
    if (plan.ehFrame() != 0 && plan.deregisterFrame() != 0) {
      target.callFunction(plan.deregisterFrame(), plan.ehFrame());
    }
  }

  public long reservedText() {
    return plan.reservedText();
  }

  public long reservedData() {
    return plan.reservedData();
  }

  /**
   * Writes code (a trampoline) into this object's r-x segment, e.g. its reserved text,
   * without ever making it writable: see {@link SharedMemory}. The target must be stopped.
   */
  public void writeText(Target target, long address, byte[] bytes) {
    writeReadOnly(target, segments(), address, bytes);
  }

  /** {@link #writeText} for segments found again with {@link #segmentsIn}. */
  public static void writeReadOnly(Target target, List<Segment> segments, long address,
      byte[] bytes) {
    Segment s = segments.stream().filter(x -> x.contains(address)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException(String.format(
            "0x%x is not in the object's memory", address)));
    if (address + bytes.length > s.end()) {
      throw new IllegalArgumentException("write crosses the end of " + s);
    }
    if (s.kind() == Segment.Kind.DATA) {
      target.write(address, bytes);
    } else {
      SharedMemory.writeThroughAlias(target, address, bytes);
    }
  }

  /** Unmaps the object; the target must be stopped and nothing may still run in it. */
  public void unload(Target target) {
    unload(target, segments());
  }

  public static void unload(Target target, List<Segment> segments) {
    for (Segment s : segments) target.munmap(s.address(), s.size());
  }

  /**
   * The segments of the object named {@code name} in a memory map, lowest first; empty when
   * it is not loaded. The kind follows from each mapping's permissions.
   */
  public static List<Segment> segmentsIn(List<Mapping> maps, String name) {
    String memfd = "qpatch:" + LinkOptions.sanitize(name);
    List<Segment> out = new ArrayList<>();
    for (Mapping m : maps) {
      if (!m.memfdName().equals(memfd)) continue;
      Segment.Kind kind = m.isExecutable() ? Segment.Kind.TEXT
          : m.isWritable() ? Segment.Kind.DATA : Segment.Kind.RODATA;
      out.add(new Segment(kind, m.start(), m.size(), m.offset()));
    }
    return out;
  }

  /** Names of every object loaded in a memory map, in address order, each once. */
  public static List<String> loadedNames(List<Mapping> maps) {
    List<String> names = new ArrayList<>();
    for (Mapping m : maps) {
      String n = m.memfdName();
      if (n.startsWith("qpatch:") && !names.contains(n.substring(7))) names.add(n.substring(7));
    }
    return names;
  }

  @Override
  public String toString() {
    return String.format("%s at 0x%x (%d bytes) in process %d", name(), base(), size(), pid);
  }
}
