package io.qpatch.patch;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The byte layout of a {@link PatchRecord} in the target (little-endian, version 2).
 *
 * <pre>
 *   0  magic "QPATCHRC"            8  u16 version, u16 header size, u32 total size
 *  16  u8 state (the switch)       17 u8 1 once .eh_frame is registered, 18 reserved
 *  24  u32 CRC-32 of [32, mutable) 28 u32 offset of the mutable area
 *  32  u64 loaded-at (epoch ms)    40 u64 init, 4 x u64 callbacks
 *  80  u16 redirects, regions, fini, reserved
 *  88  u32 strings offset, size    96 sha256[32]
 * 128  name (u32 offset, u32 length into strings), 136 path (same)
 * 144  u64 the object's __dso_handle, 152 u64 __cxa_finalize in the target (0: none)
 * 160  u64 the object's .eh_frame, 168 u64 __deregister_frame in the target (0: none)
 * 176  redirects (80 bytes each): u64 address, stub, trampoline, replacement; name, module
 *      string refs; u8 kind, u8 displaced, 6 reserved; original[24]
 *      regions (24 bytes each): u64 start, u64 length, u8 kind, 7 reserved
 *      fini: u64 each; strings (UTF-8)
 *      mutable area, 8-aligned (16 bytes per redirect): entry bytes before activation[5],
 *      u8 1 when recorded, 2 reserved, u64 previous
 * </pre>
 *
 * Only the state and frames bytes and the mutable area change after load; everything else is covered
 * by the CRC, so a record damaged by the target (a stray write) is reported, never acted on.
 * The magic is written last at load, so a load cut short leaves no valid record.
 */
final class RecordCodec {
  static final byte[] MAGIC = "QPATCHRC".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 2;
  static final int STATE_OFFSET = 16;
  static final int FRAMES_OFFSET = 17;
  static final int HEADER_SIZE = 176;
  static final int REDIRECT_SIZE = 80;
  static final int REGION_SIZE = 24;
  static final int ACTIVATION_SIZE = 16;
  /** Records are read whole; far more than any real patch needs. */
  static final int MAX_SIZE = 1 << 20;

  private static final int CRC_START = 32;

  private RecordCodec() {}

  /** A record that cannot be trusted, and why. */
  static final class CorruptRecordException extends Exception {
    CorruptRecordException(String reason) {
      super(reason);
    }
  }

  /** Bytes of {@code r}, ready to be written at {@code r.address()}. */
  static byte[] encode(PatchRecord r) {
    Strings strings = new Strings();
    long[] name = strings.add(r.name());
    long[] path = strings.add(r.path());
    List<long[]> redirectNames = new ArrayList<>();
    for (Redirect d : r.redirects()) {
      redirectNames.add(strings.add(d.name()));
      redirectNames.add(strings.add(d.module()));
    }
    Layout at = new Layout(r.redirects().size(), r.regions().size(), r.finalizer().fini().size(),
        strings.size());
    ByteBuffer b = ByteBuffer.allocate(at.total).order(ByteOrder.LITTLE_ENDIAN);
    putHeader(b, r, at, name, path);
    putRedirects(b, r.redirects(), redirectNames);
    putRegions(b, r.regions(), at.regionsOffset);
    b.position(at.finiOffset);
    r.finalizer().fini().forEach(b::putLong);
    b.position(at.strings);
    b.put(strings.bytes());
    for (int i = 0; i < r.redirects().size(); i++) {
      b.put(at.mutable + i * ACTIVATION_SIZE, activation(r.redirects().get(i)));
    }
    b.putInt(24, crc(b.array(), at.mutable));
    return b.array();
  }

  /** The 16 mutable bytes of a redirect: what its activation overwrote and where it chains. */
  static byte[] activation(Redirect d) {
    ByteBuffer b = ByteBuffer.allocate(ACTIVATION_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    if (d.hasActivation()) {
      b.put(d.entryBefore()).put((byte) 1);
      b.putLong(8, d.previous());
    }
    return b.array();
  }

  /** Offset of redirect {@code index}'s mutable bytes in a record of {@code size} bytes. */
  static int activationOffset(PatchRecord r, int index) {
    int stringsSize = new Strings().addAll(r).size();
    return new Layout(r.redirects().size(), r.regions().size(), r.finalizer().fini().size(),
        stringsSize).mutable
        + index * ACTIVATION_SIZE;
  }

  private static void putHeader(ByteBuffer b, PatchRecord r, Layout at, long[] name, long[] path) {
    b.put(0, MAGIC);
    b.putShort(8, (short) VERSION).putShort(10, (short) HEADER_SIZE).putInt(12, at.total);
    b.put(STATE_OFFSET, (byte) r.state().code());
    b.put(FRAMES_OFFSET, (byte) (r.finalizer().framesRegistered() ? 1 : 0));
    b.putInt(28, at.mutable);
    b.putLong(32, r.loadedAtMillis());
    EntryPoints e = r.entryPoints();
    b.putLong(40, e.init()).putLong(48, e.activeBefore()).putLong(56, e.activeAfter())
        .putLong(64, e.deactiveBefore()).putLong(72, e.deactiveAfter());
    b.putShort(80, (short) r.redirects().size()).putShort(82, (short) r.regions().size())
        .putShort(84, (short) r.finalizer().fini().size());
    b.putInt(88, at.strings).putInt(92, at.stringsSize);
    b.put(96, r.sha256());
    putRef(b, 128, name);
    putRef(b, 136, path);
    b.putLong(144, r.finalizer().dsoHandle()).putLong(152, r.finalizer().cxaFinalize());
    b.putLong(160, r.finalizer().ehFrame()).putLong(168, r.finalizer().deregisterFrame());
  }

  private static void putRedirects(ByteBuffer b, List<Redirect> redirects, List<long[]> names) {
    for (int i = 0; i < redirects.size(); i++) {
      Redirect d = redirects.get(i);
      int at = HEADER_SIZE + i * REDIRECT_SIZE;
      b.putLong(at, d.address()).putLong(at + 8, d.stub()).putLong(at + 16, d.trampoline())
          .putLong(at + 24, d.replacement());
      putRef(b, at + 32, names.get(2 * i));
      putRef(b, at + 40, names.get(2 * i + 1));
      b.put(at + 48, (byte) d.kind().code()).put(at + 49, (byte) d.displaced());
      b.put(at + 56, d.original());
    }
  }

  private static void putRegions(ByteBuffer b, List<Region> regions, int offset) {
    for (int i = 0; i < regions.size(); i++) {
      Region g = regions.get(i);
      int at = offset + i * REGION_SIZE;
      b.putLong(at, g.start()).putLong(at + 8, g.length()).put(at + 16, (byte) g.kind().code);
    }
  }

  private static void putRef(ByteBuffer b, int at, long[] ref) {
    b.putInt(at, (int) ref[0]).putInt(at + 4, (int) ref[1]);
  }

  /** The total size a record declares, from its first {@link #HEADER_SIZE} bytes. */
  static int declaredSize(byte[] header) throws CorruptRecordException {
    Reader in = new Reader(header, header.length);
    checkMagicAndVersion(in);
    int total = in.u32(12, "total size");
    if (total < HEADER_SIZE || total > MAX_SIZE) throw new CorruptRecordException("size " + total + " out of range");
    return total;
  }

  /** Parses and checks a record read from {@code address}. */
  static PatchRecord decode(long address, byte[] bytes) throws CorruptRecordException {
    Reader in = new Reader(bytes, bytes.length);
    checkMagicAndVersion(in);
    int total = in.u32(12, "total size");
    if (total > bytes.length || total < HEADER_SIZE) throw new CorruptRecordException("size " + total + " out of range");
    in = new Reader(bytes, total);
    Layout at = layoutOf(in);
    if (in.s32(24, "checksum") != crc(bytes, at.mutable)) {
      throw new CorruptRecordException("checksum mismatch");
    }
    Reader strings = new Reader(Arrays.copyOfRange(bytes, at.strings, at.strings + at.stringsSize), at.stringsSize);
    PatchState state = PatchState.of(in.u8(STATE_OFFSET, "state"))
        .orElseThrow(() -> new CorruptRecordException("unknown state " + bytes[STATE_OFFSET]));
    return new PatchRecord(address, state, in.u64(32, "loaded-at"), in.string(strings, 128, "name"),
        in.string(strings, 136, "path"), in.bytes(96, 32, "sha256"), entryPoints(in),
        redirects(in, strings, at), regions(in, at),
        new Finalizer(in.u64(144, "__dso_handle"), in.u64(152, "__cxa_finalize"), fini(in, at),
            in.u64(160, ".eh_frame"), in.u64(168, "__deregister_frame"), in.u8(FRAMES_OFFSET, "frames") == 1));
  }

  private static void checkMagicAndVersion(Reader in) throws CorruptRecordException {
    if (!Arrays.equals(in.bytes(0, MAGIC.length, "magic"), MAGIC)) {
      throw new CorruptRecordException("no record magic");
    }
    int version = in.u16(8, "version");
    if (version != VERSION) {
      throw new CorruptRecordException("record version " + version + ", this qpatch reads version "
          + VERSION + " (written by another qpatch release?)");
    }
    if (in.u16(10, "header size") != HEADER_SIZE) throw new CorruptRecordException("bad header size");
  }

  private static Layout layoutOf(Reader in) throws CorruptRecordException {
    Layout at = new Layout(in.u16(80, "redirect count"), in.u16(82, "region count"),
        in.u16(84, "fini count"), in.u32(92, "strings size"));
    if (at.total != in.limit || at.strings != in.u32(88, "strings offset")
        || at.mutable != in.u32(28, "mutable offset")) {
      throw new CorruptRecordException("inconsistent sizes");
    }
    return at;
  }

  private static EntryPoints entryPoints(Reader in) throws CorruptRecordException {
    return new EntryPoints(in.u64(40, "init"), in.u64(48, "callback"), in.u64(56, "callback"),
        in.u64(64, "callback"), in.u64(72, "callback"));
  }

  private static List<Redirect> redirects(Reader in, Reader strings, Layout at)
      throws CorruptRecordException {
    List<Redirect> out = new ArrayList<>();
    for (int i = 0; i < at.redirects; i++) {
      int o = HEADER_SIZE + i * REDIRECT_SIZE;
      RedirectKind kind = RedirectKind.of(in.u8(o + 48, "kind"));
      int displaced = in.u8(o + 49, "displaced");
      if (kind == null) throw new CorruptRecordException("unknown redirect kind");
      if (displaced < Redirect.ENTRY_JUMP_SIZE || displaced > Redirect.ORIGINAL_BYTES) {
        throw new CorruptRecordException("displaced size " + displaced + " out of range");
      }
      int m = at.mutable + i * ACTIVATION_SIZE;
      boolean activated = in.u8(m + 5, "activation flag") == 1;
      out.add(new Redirect(in.string(strings, o + 32, "function name"),
          in.string(strings, o + 40, "module name"), kind, in.u64(o, "address"), displaced,
          in.bytes(o + 56, Redirect.ORIGINAL_BYTES, "original bytes"), in.u64(o + 8, "stub"),
          in.u64(o + 16, "trampoline"), in.u64(o + 24, "replacement"),
          activated ? in.bytes(m, Redirect.ENTRY_JUMP_SIZE, "entry bytes") : new byte[0],
          activated ? in.u64(m + 8, "previous") : 0));
    }
    return out;
  }

  private static List<Region> regions(Reader in, Layout at) throws CorruptRecordException {
    List<Region> out = new ArrayList<>();
    for (int i = 0; i < at.regions; i++) {
      int o = at.regionsOffset + i * REGION_SIZE;
      Region.Kind kind = Region.Kind.of(in.u8(o + 16, "region kind"));
      long start = in.u64(o, "region start");
      long length = in.u64(o + 8, "region length");
      if (kind == null || length <= 0 || start + length < start) {
        throw new CorruptRecordException("bad region " + i);
      }
      out.add(new Region(start, length, kind));
    }
    return out;
  }

  private static List<Long> fini(Reader in, Layout at) throws CorruptRecordException {
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < at.fini; i++) out.add(in.u64(at.finiOffset + i * 8, "fini"));
    return out;
  }

  private static int crc(byte[] bytes, int end) {
    CRC32 crc = new CRC32();
    crc.update(bytes, CRC_START, end - CRC_START);
    return (int) crc.getValue();
  }

  /** Where each part starts, from the counts. */
  private static final class Layout {
    final int redirects;
    final int regions;
    final int fini;
    final int stringsSize;
    final int regionsOffset;
    final int finiOffset;
    final int strings;
    final int mutable;
    final int total;

    Layout(int redirects, int regions, int fini, int stringsSize) {
      this.redirects = redirects;
      this.regions = regions;
      this.fini = fini;
      this.stringsSize = stringsSize;
      this.regionsOffset = HEADER_SIZE + redirects * REDIRECT_SIZE;
      this.finiOffset = regionsOffset + regions * REGION_SIZE;
      this.strings = finiOffset + fini * 8;
      this.mutable = (strings + stringsSize + 7) & ~7;
      this.total = mutable + redirects * ACTIVATION_SIZE;
    }
  }

  /** Collects strings into one UTF-8 blob; refs are (offset, length). */
  private static final class Strings {
    private final java.io.ByteArrayOutputStream blob = new java.io.ByteArrayOutputStream();

    long[] add(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      long[] ref = {blob.size(), b.length};
      blob.writeBytes(b);
      return ref;
    }

    Strings addAll(PatchRecord r) {
      add(r.name());
      add(r.path());
      for (Redirect d : r.redirects()) {
        add(d.name());
        add(d.module());
      }
      return this;
    }

    int size() {
      return blob.size();
    }

    byte[] bytes() {
      return blob.toByteArray();
    }
  }

  /** Bounds-checked little-endian reads; every failure names the field. */
  private static final class Reader {
    private final ByteBuffer b;
    final int limit;

    Reader(byte[] bytes, int limit) {
      this.b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
      this.limit = limit;
    }

    private void check(int at, int len, String what) throws CorruptRecordException {
      if (at < 0 || len < 0 || at > limit - len) {
        throw new CorruptRecordException(what + " lies outside the record");
      }
    }

    int u8(int at, String what) throws CorruptRecordException {
      check(at, 1, what);
      return b.get(at) & 0xff;
    }

    int u16(int at, String what) throws CorruptRecordException {
      check(at, 2, what);
      return b.getShort(at) & 0xffff;
    }

    int s32(int at, String what) throws CorruptRecordException {
      check(at, 4, what);
      return b.getInt(at);
    }

    int u32(int at, String what) throws CorruptRecordException {
      int v = s32(at, what);
      if (v < 0) throw new CorruptRecordException(what + " out of range");
      return v;
    }

    long u64(int at, String what) throws CorruptRecordException {
      check(at, 8, what);
      return b.getLong(at);
    }

    byte[] bytes(int at, int len, String what) throws CorruptRecordException {
      check(at, len, what);
      return Arrays.copyOfRange(b.array(), at, at + len);
    }

    String string(Reader strings, int refAt, String what) throws CorruptRecordException {
      int off = u32(refAt, what);
      int len = u32(refAt + 4, what);
      return new String(strings.bytes(off, len, what), StandardCharsets.UTF_8);
    }
  }
}
