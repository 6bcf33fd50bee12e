package io.qpatch.dwarf;

import io.qpatch.elf.ElfFile;
import io.qpatch.elf.Section;
import io.qpatch.error.BadInputException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Function extents from a module's {@code .eh_frame}: every FDE names the code range its
 * unwind rules cover, which is one function. A stripped glibc has no symbol for the
 * assembly implementations its IFUNCs select ({@code __strlen_avx2}), but each has an FDE
 * (glibc's ENTRY macro emits {@code cfi_startproc}), so that is where their size comes from.
 *
 * <p>Layout: Linux Standard Base Core 5.0, "Exception Frames" (CIE and FDE records, the
 * augmentation string's 'z' 'R' 'P' 'L'), pointer encodings {@code DW_EH_PE_*} as in gcc's
 * unwind-pe.h. A record that cannot be parsed ends the search: the caller then knows no
 * extent, never a wrong one.
 */
public final class EhFrame {
  private static final int PE_OMIT = 0xff;
  private static final int PE_PCREL = 0x10;

  /** A function's code: {@code [start, start + size)} in the module's virtual addresses. */
  public record Extent(long start, long size) {
    public boolean contains(long vaddr) {
      return vaddr >= start && vaddr - start < size;
    }
  }

  private final Cursor in;
  private final long address;
  private final Map<Long, Integer> fdeEncodings = new HashMap<>();

  private EhFrame(DebugSection section, long address) {
    this.in = new Cursor(section, 0);
    this.address = address;
  }

  /** The FDE range holding {@code vaddr}; empty when the file has no .eh_frame or no FDE covers it. */
  public static Optional<Extent> covering(ElfFile elf, long vaddr) {
    Optional<Section> s = elf.section(".eh_frame");
    if (s.isEmpty() || s.get().type() == Section.SHT_NOBITS) return Optional.empty();
    try {
      return new EhFrame(new DebugSection(elf.name(), ".eh_frame", s.get().data()), s.get().addr())
          .find(vaddr);
    } catch (BadInputException e) {
      return Optional.empty();
    }
  }

  private Optional<Extent> find(long vaddr) {
    long at = 0;
    while (at + 4 <= in.size()) {
      in.seek(at);
      long length = in.u32();
      if (length == 0) break;  // the terminator crtend.o leaves
      if (length == 0xffffffffL) break;  // 64-bit DWARF: not what gcc emits for x86-64
      long idAt = in.pos();
      long id = in.u32();
      if (id != 0) {
        long next = in.pos();
        int encoding = fdeEncoding(idAt - id);
        in.seek(next);
        long start = pointer(encoding);
        long size = pointer(encoding & 0x0f);
        if (vaddr >= start && vaddr - start < size) return Optional.of(new Extent(start, size));
      }
      at = idAt + length;
    }
    return Optional.empty();
  }

  /** The 'R' (FDE pointer) encoding of the CIE at {@code cie}: absptr when it names none. */
  private int fdeEncoding(long cie) {
    Integer known = fdeEncodings.get(cie);
    if (known != null) return known;
    in.seek(cie + 8);  // length, CIE id 0
    int version = in.u8();
    String augmentation = in.cstring();
    if (augmentation.contains("eh")) in.skip(8);
    in.uleb();  // code alignment factor
    in.sleb();  // data alignment factor
    if (version == 1) in.u8(); else in.uleb();  // return address register
    int encoding = 0;
    if (augmentation.startsWith("z")) {
      in.uleb();  // augmentation data length
      for (char c : augmentation.substring(1).toCharArray()) {
        if (c == 'R') encoding = in.u8();
        else if (c == 'L') in.u8();
        else if (c == 'P') pointer(in.u8());
        else if (c != 'S' && c != 'B') break;
      }
    }
    fdeEncodings.put(cie, encoding);
    return encoding;
  }

  /** A pointer in {@code encoding} at the cursor; a pc-relative one made absolute. */
  private long pointer(int encoding) {
    if (encoding == PE_OMIT) return 0;
    long base = (encoding & 0x70) == PE_PCREL ? address + in.pos() : 0;
    long value = switch (encoding & 0x0f) {
      case 0x00, 0x04, 0x0c -> in.u64();
      case 0x01 -> in.uleb();
      case 0x02 -> in.u16();
      case 0x03 -> in.u32();
      case 0x09 -> in.sleb();
      case 0x0a -> (short) in.u16();
      case 0x0b -> (int) in.u32();
      default -> throw new BadInputException("pointer encoding 0x" + Integer.toHexString(encoding));
    };
    return base + value;
  }
}
