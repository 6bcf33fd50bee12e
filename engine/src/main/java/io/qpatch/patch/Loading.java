package io.qpatch.patch;

import io.qpatch.link.ObjectMemory;
import io.qpatch.sys.Mman;
import io.qpatch.arch.x86_64.Decoder;
import io.qpatch.error.QpatchException;
import io.qpatch.error.RefusedException;
import io.qpatch.link.ProcessSymbolSource;
import io.qpatch.proc.Target;
import io.qpatch.symbols.ProcessSymbols;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lays a patch into the target, in an order that never leaves the program invalid:
 * everything is resolved and checked before the first change, the object linked and
 * relocated for its address while the target runs; the memory is created by remote
 * system calls, each in one held thread while the others run on (nothing reaches the
 * memory yet), and filled from our side; the record is written with its magic last; the constructors and {@code
 * _qpatch_init} run; the state becomes LOADED. A failure before the record is complete
 * unmaps what was created; a kill leaves mappings no record lists, which the next command
 * removes ({@link Housekeeping}).
 */
final class Loading {
  /** Room in the record for the linker's segments (text, rodata, data) and then some. */
  private static final int SPARE_REGIONS = 8;

  private final TargetMemory memory;
  private final RecordStore store;
  private final Unloading unloading;

  Loading(TargetMemory memory, RecordStore store, Unloading unloading) {
    this.memory = memory;
    this.store = store;
    this.unloading = unloading;
  }

  /**
   * A patch laid out and recorded, not yet initialised.
   *
   * @param registerFrame {@code __register_frame} for the object's .eh_frame, 0 for none
   */
  record Laid(PatchRecord record, List<Long> constructors, long registerFrame) {}

  /** Everything up to a complete LOADING record. */
  /** What {@link #lay} checks before it writes anything; the functions it would take over. */
  List<String> check(PatchObject object, ProcessSymbols symbols, List<PatchRecord> records) {
    return planned(object, symbols, records).stream()
        .map(p -> p.kind().describe(p.name(), p.module())).toList();
  }

  /** The functions {@code object} takes over, found and checked, and its symbols resolved: nothing written yet. */
  private List<Planner.Planned> planned(PatchObject object, ProcessSymbols symbols, List<PatchRecord> records) {
    List<Planner.Planned> plan = new Planner(memory.target(), symbols, records, Decoder.shared()).plan(object);
    ObjectLink.check(object, new ProcessSymbolSource(symbols), idOf(object),
        overrides(plan, plan.stream().map(Planner.Planned::address).toList()));
    return plan;
  }

  private static String idOf(PatchObject object) {
    return PatchNames.id(object.name(), java.util.HexFormat.of().formatHex(object.sha256()));
  }

  Laid lay(PatchObject object, ProcessSymbols symbols, List<PatchRecord> records) {
    Target target = memory.target();
    List<Planner.Planned> plan = planned(object, symbols, records);
    ProcessSymbolSource source = new ProcessSymbolSource(symbols);
    String id = idOf(object);
    long recordSize = Mman.pages(RecordCodec.encode(draft(object, plan)).length
        + SPARE_REGIONS * RecordCodec.REGION_SIZE + 64);
    StubAreas areas = new StubAreas(plan, target.maps());
    List<Region> created = new ArrayList<>();
    try {
      StubAreas.Allocation stubs = mapRecordAndStubs(id, recordSize, areas, created);
      ObjectLink.Linked linked = ObjectLink.load(memory, object.elf(), source, id,
          overrides(plan, stubs.slots()), near(plan, symbols));
      created.addAll(0, linked.regions());
      Checkpoints.passed("object laid out", id);
      PatchRecord record = record(object, plan, created, stubs.slots(), linked);
      writeStubs(record, plan);
      store.writeNew(record);
      return new Laid(record, linked.constructors(), linked.registerFrame());
    } catch (RuntimeException e) {
      undo(created, e);
      throw e;
    }
  }

  /**
   * One memfd: the record (rw-, shared) in its first pages, the stub areas (r-x, private,
   * near the functions) after it. Adds each mapping to {@code created}, the record last.
   * Both are written later through /proc/PID/mem.
   */
  private StubAreas.Allocation mapRecordAndStubs(String id, long recordSize, StubAreas areas,
      List<Region> created) {
    String name = PatchNames.recordMemfd(id);
    ObjectMemory.Memfd memfd = memory.memfd(name, recordSize + areas.size());
    memfd.file().close();
    try {
      long recordAt = memory.map(memfd.fd(), 0, recordSize,
          Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, 0, name);
      created.add(new Region(recordAt, recordSize, Region.Kind.RECORD));
      StubAreas.Allocation stubs = areas.map(memory, memfd.fd(), recordSize, name);
      created.addAll(0, stubs.areas());
      return stubs;
    } finally {
      memory.close(memfd.fd(), name);
    }
  }

  /**
   * True when initialising runs code in the target: .eh_frame registration, constructors
   * or {@code _qpatch_init}.
   */
  static boolean runsCode(Laid laid) {
    return laid.registerFrame() != 0 || !laid.constructors().isEmpty() || laid.record().entryPoints().init() != 0;
  }

  /**
   * Runs the constructors and {@code _qpatch_init}, then marks the patch LOADED; the target
   * is stopped, or a thread held when {@link #runsCode}. A constructor or init that fails
   * gets the patch unloaded again.
   */
  PatchRecord initialise(Laid laid) {
    PatchRecord r = laid.record();
    try {
      r = registerFrames(laid, r);
      for (long c : laid.constructors()) memory.call(c, "constructor of " + r.name());
      if (r.entryPoints().init() != 0) memory.call(r.entryPoints().init(), EntryPoints.INIT + " of " + r.name());
    } catch (QpatchException e) {
      boolean unloaded = unloading.tryUnload(r).isEmpty();
      throw new RefusedException("initialising " + r.label() + " failed: " + e.getMessage()
          + (unloaded ? "; the patch was unloaded again" : "; the next qpatch command removes the patch"));
    }
    return store.writeState(r, PatchState.LOADED);
  }

  /**
   * Makes the object's unwind tables known to the target's unwinder before any of its code
   * runs, as ld.so does for a library (C++ exceptions thrown through or inside patch code
   * need them), then sets the record's flag that unloading deregisters them by.
   */
  private PatchRecord registerFrames(Laid laid, PatchRecord r) {
    if (laid.registerFrame() == 0) return r;
    memory.call(laid.registerFrame(), "__register_frame for " + r.name(), r.finalizer().ehFrame());
    return store.writeFramesRegistered(r, true);
  }

  /** A hook's calls to the function it hooks go to the previous version: the stub's PREVIOUS_ENTRY. */
  private static Map<String, Long> overrides(List<Planner.Planned> plan, List<Long> slots) {
    Map<String, Long> out = new LinkedHashMap<>();
    for (int i = 0; i < plan.size(); i++) {
      Planner.Planned p = plan.get(i);
      if (p.kind() == RedirectKind.HOOK) out.put(p.name(), slots.get(i) + StubCode.PREVIOUS_ENTRY);
    }
    return out;
  }

  /** The object goes near the first function it redirects, else near the program. */
  private static long near(List<Planner.Planned> plan, ProcessSymbols symbols) {
    if (!plan.isEmpty()) return plan.getFirst().address();
    return symbols.mainProgram().map(m -> m.base()).orElse(0x400000L);
  }

  /** The record of the laid-out patch; its address is the RECORD region's. */
  private PatchRecord record(PatchObject object, List<Planner.Planned> plan, List<Region> regions,
      List<Long> slots, ObjectLink.Linked linked) {
    long at = regions.stream().filter(g -> g.kind() == Region.Kind.RECORD).findFirst().orElseThrow().start();
    List<Redirect> redirects = new ArrayList<>();
    for (int i = 0; i < plan.size(); i++) {
      Planner.Planned p = plan.get(i);
      long slot = slots.get(i);
      redirects.add(new Redirect(p.name(), p.module(), p.kind(), p.address(), p.displaced(),
          p.original(), slot, slot + StubCode.STUB_SIZE, linked.address(p.objectSymbol()),
          new byte[0], 0));
    }
    EntryPoints entry = new EntryPoints(find(linked, EntryPoints.INIT),
        find(linked, EntryPoints.ACTIVE_BEFORE), find(linked, EntryPoints.ACTIVE_AFTER),
        find(linked, EntryPoints.DEACTIVE_BEFORE), find(linked, EntryPoints.DEACTIVE_AFTER));
    return new PatchRecord(at, PatchState.LOADING, System.currentTimeMillis(), object.name(),
        object.path().toString(), object.sha256(), entry, redirects, regions, linked.finalizer());
  }

  private static long find(ObjectLink.Linked linked, String name) {
    return linked.find(name).orElse(0);
  }

  /** A record with the final strings and counts but placeholder addresses, to size the mapping. */
  private static PatchRecord draft(PatchObject object, List<Planner.Planned> plan) {
    List<Redirect> redirects = plan.stream().map(p -> new Redirect(p.name(), p.module(), p.kind(),
        p.address(), p.displaced(), p.original(), 0, 0, 0, new byte[0], 0)).toList();
    List<Region> spare = new ArrayList<>();
    for (int i = 0; i < plan.size() + 1; i++) spare.add(new Region(0, 1, Region.Kind.STUBS));
    return new PatchRecord(0, PatchState.LOADING, 0, object.name(), object.path().toString(),
        object.sha256(), EntryPoints.NONE, redirects, spare, Finalizer.NONE);
  }

  /** Each stub and its trampoline, in one write per function; nothing jumps there yet. */
  private void writeStubs(PatchRecord r, List<Planner.Planned> plan) {
    for (int i = 0; i < plan.size(); i++) {
      Redirect d = r.redirects().get(i);
      Planner.Planned p = plan.get(i);
      byte[] stub = StubCode.stub(r.stateAddress(), d.replacement(), d.trampoline());
      byte[] trampoline = StubCode.trampoline(Decoder.shared(), p.code(), p.address(), p.check().consumed(), d.trampoline());
      if (stub.length + trampoline.length > p.slotSize()) {
        throw new IllegalStateException("trampoline of " + p.name() + " overflows its slot");
      }
      byte[] slot = new byte[stub.length + trampoline.length];
      System.arraycopy(stub, 0, slot, 0, stub.length);
      System.arraycopy(trampoline, 0, slot, stub.length, trampoline.length);
      memory.write(d.stub(), slot, "stub and trampoline of " + d.name());
    }
  }

  private void undo(List<Region> created, RuntimeException cause) {
    if (created.isEmpty()) return;
    try {
      unloading.unmap(created, memory.target().maps());
    } catch (RuntimeException e) {
      cause.addSuppressed(e);
    }
  }
}
