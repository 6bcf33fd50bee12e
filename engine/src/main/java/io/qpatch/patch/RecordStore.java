package io.qpatch.patch;

import io.qpatch.error.RefusedException;
import io.qpatch.error.SyscallException;
import io.qpatch.proc.Mapping;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Finds, reads and writes patch records in the target. A record is the first bytes of a
 * memfd mapping named {@code qpatch:ID:record} (ID = {@link PatchNames#id}), so every
 * command finds the patches loaded by earlier ones through {@code /proc/PID/maps}.
 */
final class RecordStore {
  /**
   * One record mapping found in the target: its record, or why it cannot be used. A
   * mapping whose magic is still zero belongs to a load that was cut short before the
   * record was complete: {@link #isIncomplete()}, not corrupt.
   */
  record Found(Mapping mapping, PatchRecord record, String problem) {
    static final String INCOMPLETE = "incomplete (its load was interrupted)";

    boolean isValid() {
      return record != null;
    }

    boolean isIncomplete() {
      return INCOMPLETE.equals(problem);
    }

    boolean isCorrupt() {
      return record == null && !isIncomplete();
    }
  }

  private final TargetMemory memory;

  RecordStore(TargetMemory memory) {
    this.memory = memory;
  }

  /** Every record mapping in the target, in address order. */
  List<Found> scan() {
    return scan(memory.target().maps());
  }

  List<Found> scan(List<Mapping> maps) {
    List<Found> out = new ArrayList<>();
    for (Mapping m : maps) {
      if (PatchNames.isRecordMapping(m) && m.offset() == 0) out.add(read(m));
    }
    return out;
  }

  /** The valid records among {@code found}. */
  static List<PatchRecord> valid(List<Found> found) {
    return found.stream().filter(Found::isValid).map(Found::record).toList();
  }

  private Found read(Mapping m) {
    try {
      byte[] header = memory.target().read(m.start(), RecordCodec.HEADER_SIZE);
      if (java.util.Arrays.equals(header, 0, RecordCodec.MAGIC.length,
          new byte[RecordCodec.MAGIC.length], 0, RecordCodec.MAGIC.length)) {
        return new Found(m, null, Found.INCOMPLETE);
      }
      int size = RecordCodec.declaredSize(header);
      if (size > m.size()) throw new RecordCodec.CorruptRecordException("larger than its mapping");
      return new Found(m, RecordCodec.decode(m.start(), memory.target().read(m.start(), size)), null);
    } catch (RecordCodec.CorruptRecordException e) {
      return new Found(m, null, e.getMessage());
    } catch (SyscallException e) {
      return new Found(m, null, "unreadable: " + e.getMessage());
    }
  }

  /** Reads the record at {@code address} again; a record that went bad is refused. */
  PatchRecord reread(PatchRecord r) {
    Mapping m = memory.target().maps().stream().filter(x -> x.start() == r.address())
        .findFirst().orElseThrow(() -> new RefusedException(String.format(
            "the record of %s at 0x%x in pid %d has disappeared", r.label(), r.address(),
            memory.target().pid())));
    Found f = read(m);
    if (!f.isValid()) throw corrupt(f);
    return f.record();
  }

  RefusedException corrupt(Found f) {
    return new RefusedException(String.format(
        "the patch record at 0x%x in pid %d (%s) is corrupt: %s; qpatch leaves that patch alone",
        f.mapping().start(), memory.target().pid(), f.mapping().memfdName(), f.problem()));
  }

  /**
   * Writes a new record: everything but the magic first, then the magic, so that a record
   * with its magic is always complete.
   */
  void writeNew(PatchRecord r) {
    byte[] bytes = RecordCodec.encode(r);
    byte[] body = bytes.clone();
    Arrays.fill(body, 0, RecordCodec.MAGIC.length, (byte) 0);
    memory.write(r.address(), body, "record of " + r.name());
    memory.write(r.address(), RecordCodec.MAGIC, "record magic of " + r.name());
  }

  /** The switch: one byte, so the change is all or nothing. */
  PatchRecord writeState(PatchRecord r, PatchState state) {
    memory.write(r.stateAddress(), new byte[] {(byte) state.code()},
        "state of " + r.name() + " = " + state);
    return r.withState(state);
  }

  /** Records that the object's .eh_frame is (or no longer is) registered with the unwinder. */
  PatchRecord writeFramesRegistered(PatchRecord r, boolean registered) {
    memory.write(r.address() + RecordCodec.FRAMES_OFFSET, new byte[] {(byte) (registered ? 1 : 0)},
        "frames flag of " + r.name());
    return r.withFinalizer(r.finalizer().withFramesRegistered(registered));
  }

  /** The record of {@code hash} among {@code found}, if loaded. */
  static Optional<PatchRecord> byHash(List<Found> found, String hash) {
    return valid(found).stream().filter(r -> r.hash().equals(hash)).findFirst();
  }
}
