package io.qpatch.dwarf;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.Section;
import io.qpatch.error.BadInputException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Finds the {@code .debug_*} sections of an ELF file and decompresses them on first use.
 *
 * <p>Two compressed encodings exist. SHF_COMPRESSED sections start with an {@code
 * Elf64_Chdr} (gABI "Section Compression"; /usr/include/elf.h: ch_type, ch_reserved,
 * ch_size, ch_addralign) and ELFCOMPRESS_ZLIB data; Go's linker writes these since Go 1.12
 * and gcc/ld do with {@code --compress-debug-sections}. The older GNU form is a section named
 * {@code .zdebug_*} whose data is "ZLIB", the uncompressed size as 8 big-endian bytes, then
 * a zlib stream (Go 1.11 wrote this form).
 */
final class DebugSections {
  /** ELFCOMPRESS_ZLIB and ELFCOMPRESS_ZSTD from elf.h. */
  private static final int ELFCOMPRESS_ZLIB = 1;
  private static final int ELFCOMPRESS_ZSTD = 2;
  private static final int CHDR_SIZE = 24;
  /** Refuse to inflate more than this: no real debug section comes near it. */
  private static final long MAX_INFLATED = 1L << 31;

  private final ElfFile elf;
  private final Map<String, Optional<DebugSection>> cache = new HashMap<>();

  DebugSections(ElfFile elf) {
    this.elf = elf;
  }

  String file() {
    return elf.name();
  }

  /** True when the file has a .debug_info (plain or .zdebug_info). */
  boolean hasInfo() {
    return elf.section(".debug_info").isPresent() || elf.section(".zdebug_info").isPresent();
  }

  /** The section ".debug_X", decompressed; empty when absent. */
  synchronized Optional<DebugSection> get(String name) {
    Optional<DebugSection> s = cache.get(name);
    if (s == null) {
      s = load(name);
      cache.put(name, s);
    }
    return s;
  }

  /** Like {@link #get} but a missing section is malformed input. */
  DebugSection require(String name, String neededFor) {
    return get(name).orElseThrow(() -> new BadInputException(
        elf.name() + ": " + neededFor + " refers to " + name + ", which the file lacks"));
  }

  private Optional<DebugSection> load(String name) {
    Optional<Section> plain = elf.section(name);
    if (plain.isPresent()) return Optional.of(fromSection(name, plain.get()));
    Optional<Section> gnu = elf.section(".z" + name.substring(1));
    return gnu.map(s -> new DebugSection(elf.name(), s.name(), inflateGnu(s)));
  }

  private DebugSection fromSection(String name, Section s) {
    if (!s.hasData()) return new DebugSection(elf.name(), name, MemorySegment.NULL);
    if ((s.flags() & Section.SHF_COMPRESSED) == 0) {
      return new DebugSection(elf.name(), name, s.data());
    }
    return new DebugSection(elf.name(), name, inflateChdr(name, s.data()));
  }

  private MemorySegment inflateChdr(String name, MemorySegment data) {
    if (data.byteSize() < CHDR_SIZE) throw bad(name, "compressed, but shorter than Elf64_Chdr");
    ValueLayout.OfInt u32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    ValueLayout.OfLong u64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    int type = data.get(u32, 0);
    long size = data.get(u64, 8);
    if (type == ELFCOMPRESS_ZSTD) {
      throw bad(name, "compressed with zstd, which qpatch cannot read; rebuild with"
          + " --compress-debug-sections=zlib or none");
    }
    if (type != ELFCOMPRESS_ZLIB) throw bad(name, "unknown compression type " + type);
    return inflate(name, data.asSlice(CHDR_SIZE), size);
  }

  private MemorySegment inflateGnu(Section s) {
    MemorySegment data = s.hasData() ? s.data() : MemorySegment.NULL;
    if (data.byteSize() < 12 || data.get(ValueLayout.JAVA_INT_UNALIGNED, 0) != zlibMagic()) {
      throw bad(s.name(), "does not start with \"ZLIB\" and a size");
    }
    long size = data.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 4);
    return inflate(s.name(), data.asSlice(12), size);
  }

  private static int zlibMagic() {
    return MemorySegment.ofArray("ZLIB".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
        .get(ValueLayout.JAVA_INT_UNALIGNED, 0);
  }

  private MemorySegment inflate(String name, MemorySegment compressed, long size) {
    if (size < 0 || size > MAX_INFLATED) {
      throw bad(name, "implausible uncompressed size " + Long.toUnsignedString(size));
    }
    byte[] out = new byte[(int) size];
    Inflater inflater = new Inflater();
    try {
      inflater.setInput(compressed.asByteBuffer());
      int n = 0;
      while (n < out.length && !inflater.finished()) {
        int got = inflater.inflate(out, n, out.length - n);
        if (got == 0 && (inflater.needsInput() || inflater.needsDictionary())) break;
        n += got;
      }
      if (n != out.length) {
        throw bad(name, "zlib data ends after " + n + " of " + size + " bytes");
      }
      return MemorySegment.ofArray(out);
    } catch (DataFormatException e) {
      throw bad(name, "corrupt zlib data (" + e.getMessage() + ")");
    } finally {
      inflater.end();
    }
  }

  private BadInputException bad(String section, String detail) {
    return new BadInputException(elf.name() + ": " + section + ": " + detail);
  }
}
