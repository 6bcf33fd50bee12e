package io.qpatch.patch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecordCodecTest {
  private static final long AT = 0x7f0000001000L;

  static PatchRecord sample() {
    byte[] original = new byte[Redirect.ORIGINAL_BYTES];
    for (int i = 0; i < original.length; i++) original[i] = (byte) (0x40 + i);
    byte[] sha = new byte[32];
    Arrays.fill(sha, (byte) 0xab);
    Redirect sleep = new Redirect("sleep", "libc.so.6", RedirectKind.HOOK, 0x7f00aa000100L, 7,
        original, 0x7f00a0000000L, 0x7f00a0000040L, 0x7f00b0000010L, new byte[0], 0);
    Redirect method = new Redirect("_ZN7Greeter5greetEi", "cppmain", RedirectKind.REPLACE,
        0x55550000100aL, 5, original, 0x555540000000L, 0x555540000040L, 0x7f00b0000400L,
        new byte[] {(byte) 0xe9, 1, 2, 3, 4}, 0x555540000040L);
    return new PatchRecord(AT, PatchState.LOADED, 1_700_000_000_000L, "chook.o",
        "/tmp/é/chook.o", sha, new EntryPoints(1, 2, 3, 4, 5), List.of(sleep, method),
        List.of(new Region(0x7f00b0000000L, 0x3000, Region.Kind.OBJECT),
            new Region(0x7f00a0000000L, 0x1000, Region.Kind.STUBS),
            new Region(AT, 0x1000, Region.Kind.RECORD)),
        new Finalizer(0x7f00b0002000L, 0x7f00aa123456L, List.of(0x7f00b0000300L, 0x7f00b0000200L),
            0x7f00b0001000L, 0x7f00aa223344L, true));
  }

  @Test
  void a_record_reads_back_as_written() throws Exception {
    PatchRecord r = sample();
    assertEquals(r, RecordCodec.decode(AT, RecordCodec.encode(r)));
  }

  @Test
  void the_state_byte_sits_at_offset_16_and_is_not_covered_by_the_checksum() throws Exception {
    byte[] bytes = RecordCodec.encode(sample());
    assertEquals(PatchState.LOADED.code(), bytes[RecordCodec.STATE_OFFSET]);
    bytes[RecordCodec.STATE_OFFSET] = (byte) PatchState.ACTIVE.code();
    assertEquals(PatchState.ACTIVE, RecordCodec.decode(AT, bytes).state());
    assertEquals(AT + 16, sample().stateAddress());
  }

  @Test
  void an_activation_written_in_place_reads_back() throws Exception {
    PatchRecord r = sample();
    byte[] bytes = RecordCodec.encode(r);
    Redirect activated = r.redirects().getFirst().activated(new byte[] {0x55, 0x48, (byte) 0x89, (byte) 0xe5, 0x41}, 0x7f00a0000040L);
    byte[] mutable = RecordCodec.activation(activated);
    System.arraycopy(mutable, 0, bytes, RecordCodec.activationOffset(r, 0), mutable.length);
    assertEquals(r.withRedirect(0, activated), RecordCodec.decode(AT, bytes));
  }

  @Test
  void a_changed_byte_under_the_checksum_is_reported_as_corrupt() {
    byte[] bytes = RecordCodec.encode(sample());
    bytes[RecordCodec.HEADER_SIZE + 3] ^= 1;
    var e = assertThrows(RecordCodec.CorruptRecordException.class, () -> RecordCodec.decode(AT, bytes));
    assertEquals("checksum mismatch", e.getMessage());
  }

  @Test
  void wrong_magic_version_or_size_is_reported_not_trusted() {
    byte[] noMagic = RecordCodec.encode(sample());
    noMagic[0] = 0;
    assertEquals("no record magic", assertThrows(RecordCodec.CorruptRecordException.class,
        () -> RecordCodec.decode(AT, noMagic)).getMessage());
    byte[] version = RecordCodec.encode(sample());
    version[8] = 9;
    assertTrue(assertThrows(RecordCodec.CorruptRecordException.class,
        () -> RecordCodec.decode(AT, version)).getMessage().startsWith("record version 9"));
    byte[] huge = RecordCodec.encode(sample());
    huge[14] = 0x7f;  // total size 0x7f....: far beyond any record
    assertTrue(assertThrows(RecordCodec.CorruptRecordException.class,
        () -> RecordCodec.declaredSize(Arrays.copyOf(huge, RecordCodec.HEADER_SIZE))).getMessage()
        .endsWith("out of range"));
  }

  @Test
  void every_truncation_is_reported_as_corrupt() {
    byte[] bytes = RecordCodec.encode(sample());
    for (int n = 0; n < bytes.length; n++) {
      byte[] cut = Arrays.copyOf(bytes, n);
      assertThrows(RecordCodec.CorruptRecordException.class, () -> RecordCodec.decode(AT, cut), "length " + n);
    }
  }

  @Test
  void random_damage_never_escapes_as_anything_but_corrupt() {
    java.util.Random random = new java.util.Random(42);
    byte[] good = RecordCodec.encode(sample());
    for (int i = 0; i < 2000; i++) {
      byte[] bytes = good.clone();
      bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
      try {
        RecordCodec.decode(AT, bytes);
      } catch (RecordCodec.CorruptRecordException expected) {
        // the only acceptable failure
      }
    }
  }

  @Test
  void the_original_bytes_survive_the_round_trip() throws Exception {
    PatchRecord back = RecordCodec.decode(AT, RecordCodec.encode(sample()));
    assertArrayEquals(sample().redirects().get(1).original(), back.redirects().get(1).original());
  }
}
