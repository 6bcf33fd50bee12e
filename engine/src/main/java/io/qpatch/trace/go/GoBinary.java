package io.qpatch.trace.go;

import io.qpatch.arch.x86_64.Decoder;
import io.qpatch.arch.x86_64.Instruction;
import io.qpatch.arch.x86_64.Relocator;
import io.qpatch.dwarf.Dwarf;
import io.qpatch.dwarf.DwarfFunction;
import io.qpatch.elf.ElfFile;
import io.qpatch.elf.Note;
import io.qpatch.elf.Section;
import io.qpatch.elf.Symbol;
import io.qpatch.error.BadInputException;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What can be known about a Go executable without running it: the toolchain version, every
 * function (from .gopclntab, so stripped binaries keep their names), the goid offset inside
 * runtime.g, the calling convention, each function's stack-check prologue and return
 * sites, and, with DWARF, parameter names, types and registers.
 *
 * <p>Addresses are link-time addresses; Go executables are not position independent unless
 * built with -buildmode=pie, in which case callers add the load bias.
 *
 * <p>Lazy and thread-safe: opening checks only that the file is a Go binary; tables are
 * read on first use. The {@link ElfFile} must stay open while this is used.
 */
public final class GoBinary {
  /** Bytes decoded from an entry to recognise a stack check: the longest form fits in 32. */
  private static final int PROLOGUE_BYTES = 48;

  private final ElfFile elf;
  private final Image image;
  private final Optional<Section> buildInfo;
  private final MemorySegment pclntabData;
  private GoVersion version;
  private Pclntab pclntab;
  private List<GoFunction> functions;
  private Map<String, GoFunction> byName;
  private Optional<Dwarf> dwarf;

  private GoBinary(ElfFile elf, Optional<Section> buildInfo, MemorySegment pclntabData) {
    this.elf = elf;
    this.image = new Image(elf);
    this.buildInfo = buildInfo;
    this.pclntabData = pclntabData;
  }

  /**
   * The Go view of {@code elf}, or empty when it is not a Go executable (no .go.buildinfo,
   * no .gopclntab, no Go build-id note).
   *
   * @throws BadInputException when it looks like Go but its function table is missing
   */
  public static Optional<GoBinary> of(ElfFile elf) {
    Optional<Section> info = elf.section(".go.buildinfo");
    Optional<MemorySegment> table = pclntabSection(elf);
    boolean goNote = elf.notes().stream().anyMatch(GoBinary::isGoNote);
    if (info.isEmpty() && table.isEmpty() && !goNote) return Optional.empty();
    if (table.isEmpty()) {
      throw new BadInputException(elf.name() + ": a Go binary without a function table"
          + " (.gopclntab); cannot trace it");
    }
    return Optional.of(new GoBinary(elf, info, table.get()));
  }

  /** .gopclntab; .data.rel.ro.gopclntab in PIE; else runtime.pclntab..runtime.epclntab. */
  private static Optional<MemorySegment> pclntabSection(ElfFile elf) {
    Optional<Section> s = elf.section(".gopclntab")
        .or(() -> elf.section(".data.rel.ro.gopclntab"));
    if (s.isPresent()) return s.filter(Section::hasData).map(Section::data);
    OptionalLong start = symbol(elf, "runtime.pclntab");
    OptionalLong end = symbol(elf, "runtime.epclntab");
    if (start.isEmpty() || end.isEmpty() || end.getAsLong() < start.getAsLong()) {
      return Optional.empty();
    }
    Image image = new Image(elf);
    long length = end.getAsLong() - start.getAsLong();
    return Optional.of(MemorySegment.ofArray(image.read(start.getAsLong(), length, "pclntab")));
  }

  private static OptionalLong symbol(ElfFile elf, String name) {
    return elf.symtab().flatMap(t -> t.named(name).stream().filter(Symbol::isDefined).findFirst())
        .map(sym -> OptionalLong.of(sym.value())).orElse(OptionalLong.empty());
  }

  public ElfFile elf() {
    return elf;
  }

  /**
   * The Go version as {@code go version} prints it ("go1.21.13"), from .go.buildinfo; for
   * binaries without one (before Go 1.13) the earliest version the pclntab format allows.
   */
  public synchronized GoVersion goVersion() {
    if (version == null) {
      version = buildInfo.isPresent()
          ? GoVersion.parse(BuildInfo.version(image, buildInfo.get()))
          : pclntab().format().firstVersion();
    }
    return version;
  }

  /** "go1.21.13". */
  public String version() {
    return goVersion().text();
  }

  /** "1.21". */
  public String majorMinor() {
    return goVersion().majorMinor();
  }

  public PclntabFormat pclntabFormat() {
    return pclntab().format();
  }

  private synchronized Pclntab pclntab() {
    if (pclntab == null) pclntab = Pclntab.open(elf.name(), pclntabData);
    return pclntab;
  }

  /** Every function of the binary, by address, from .gopclntab. */
  public synchronized List<GoFunction> functions() {
    if (functions == null) functions = List.copyOf(pclntab().functions(textStart()));
    return functions;
  }

  /**
   * runtime.text, which Go 1.18+ entry offsets are relative to: the symbol when present,
   * else the header's value when it points into .text (it is unrelocated in PIE files),
   * else the start of .text, as debug/gosym does.
   */
  private long textStart() {
    OptionalLong sym = symbol(elf, "runtime.text");
    if (sym.isPresent()) return sym.getAsLong();
    Optional<Section> text = elf.section(".text");
    long header = pclntab().headerTextStart();
    if (text.isPresent() && header >= text.get().addr()
        && header < text.get().addr() + text.get().size()) {
      return header;
    }
    return text.map(Section::addr).orElse(header);
  }

  /**
   * The function called {@code name} ("main.work", "main.(*T).M"). An assembly function
   * and its ABI wrapper share a name (runtime.reflectcall); this is the lower address, see
   * {@link #functionsNamed}.
   */
  public synchronized Optional<GoFunction> function(String name) {
    if (byName == null) {
      Map<String, GoFunction> map = new HashMap<>();
      for (GoFunction f : functions()) map.putIfAbsent(f.name(), f);
      byName = map;
    }
    return Optional.ofNullable(byName.get(name));
  }

  /** Every function called {@code name}, by address (usually one). */
  public List<GoFunction> functionsNamed(String name) {
    return functions().stream().filter(f -> f.name().equals(name)).toList();
  }

  /** The function whose code contains {@code pc}. */
  public Optional<GoFunction> functionAt(long pc) {
    List<GoFunction> all = functions();
    int lo = 0;
    int hi = all.size() - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      GoFunction f = all.get(mid);
      if (Long.compareUnsigned(pc, f.entry()) < 0) hi = mid - 1;
      else if (f.contains(pc)) return Optional.of(f);
      else lo = mid + 1;
    }
    return Optional.empty();
  }

  /** The binary's DWARF, absent when built with -ldflags=-w (or -s -w). */
  public synchronized Optional<Dwarf> dwarf() {
    if (dwarf == null) dwarf = Dwarf.of(elf);
    return dwarf;
  }

  /** Where {@link #goidOffset()} came from. */
  public enum GoidSource { DWARF, VERSION_TABLE }

  /** The offset of goid inside runtime.g, and how it was found. */
  public record GoidOffset(long offset, GoidSource source) {}

  /**
   * The goid offset: from DWARF ({@code runtime.g} member {@code goid}) when present,
   * else from {@link GoidOffsets} for the binary's Go version.
   *
   * @throws BadInputException when neither knows it (a Go version newer than the table)
   */
  public GoidOffset goidOffset() {
    OptionalLong fromDwarf = dwarf().map(d -> d.memberOffset("runtime.g", "goid"))
        .orElse(OptionalLong.empty());
    if (fromDwarf.isPresent()) return new GoidOffset(fromDwarf.getAsLong(), GoidSource.DWARF);
    OptionalLong fromTable = GoidOffsets.forVersion(goVersion());
    if (fromTable.isPresent()) {
      return new GoidOffset(fromTable.getAsLong(), GoidSource.VERSION_TABLE);
    }
    throw new BadInputException(elf.name() + ": built by " + version() + ", whose runtime.g"
        + " layout qpatch does not know, and without DWARF; rebuild without -ldflags=-w");
  }

  /** The calling convention of the binary's Go functions. */
  public GoAbi abi() {
    return GoAbi.forVersion(goVersion());
  }

  /**
   * Where {@code f} finds g at its entry. Under the register ABI a function is ABIInternal
   * unless the table marks it assembly (Go 1.19 on) or its first instructions load R14 from
   * TLS (the ABI0 wrapper of a Go function called from assembly: cmd/compile's
   * makeABIWrapper, {@code MOVQ (TLS), R14}); without the flag (1.17, 1.18) its stack check
   * tells which register holds g, and a function without one is {@link GEntry#UNKNOWN}.
   */
  public GEntry gAtEntry(GoFunction f) {
    if (abi() == GoAbi.STACK) return GEntry.TLS;
    if (loadsGFromTls(head(f))) return GEntry.TLS;
    if (f.flag() != GoFunction.NO_FLAG && goVersion().atLeast(1, 19)) {
      return f.isAsm() ? GEntry.TLS : GEntry.REGISTER;
    }
    StackCheck check = stackCheck(f);
    if (!check.hasCheck() || check.gSource().isEmpty()) return GEntry.UNKNOWN;
    return check.gSource().get() == StackCheck.GSource.R14 ? GEntry.REGISTER : GEntry.TLS;
  }

  /** {@code mov r14, fs:[...]} among the first instructions: g is being loaded, not yet there. */
  private static boolean loadsGFromTls(List<Instruction> head) {
    for (int i = 0; i < Math.min(4, head.size()); i++) {
      Instruction insn = head.get(i);
      if (insn.mnemonic().equals("mov") && insn.operandText().startsWith("r14, qword ptr fs:")) return true;
      if (insn.regsRead().contains("r14")) return false;
    }
    return false;
  }

  /**
   * Where g lies relative to the fs base (the thread pointer): -8 in an internally linked
   * binary (runtime/go_tls.h; cmd/link places runtime.tlsg there on linux/amd64, with no
   * PT_TLS segment); in an externally linked one (cgo), {@code runtime.tlsg}'s offset in the
   * executable's TLS block, which ends at the thread pointer (psABI 3.4.6, TLS variant II:
   * the block starts at tp - round_up(p_memsz, p_align)). Empty when it cannot be known (a
   * stripped external link).
   */
  public OptionalLong gTlsOffset() {
    Optional<io.qpatch.elf.ProgramHeader> tls = elf.programHeaders().stream()
        .filter(p -> p.type() == io.qpatch.elf.ProgramHeader.PT_TLS).findFirst();
    if (tls.isEmpty()) return OptionalLong.of(GoAbi.G_TLS_OFFSET);
    OptionalLong tlsg = elf.symtab().flatMap(t -> t.named("runtime.tlsg").stream()
        .filter(Symbol::isDefined).findFirst()).map(sym -> OptionalLong.of(sym.value()))
        .orElse(OptionalLong.empty());
    if (tlsg.isEmpty()) return OptionalLong.empty();
    long align = Math.max(1, tls.get().align());
    long block = (tls.get().memsz() + align - 1) / align * align;
    long value = tlsg.getAsLong(); // an offset in the segment; some linkers write an address
    long inBlock = value >= tls.get().vaddr() && tls.get().vaddr() > 0 ? value - tls.get().vaddr() : value;
    return OptionalLong.of(inBlock - block);
  }

  /**
   * Where the runtime's type descriptors start (moduledata.types): DWARF's
   * DW_AT_go_runtime_type values are offsets from it (cmd/link/internal/ld/dwarf.go,
   * dwarfDefGoType). runtime.types, else the start of .rodata, where the linker puts them.
   */
  public OptionalLong typesBase() {
    OptionalLong sym = symbol(elf, "runtime.types");
    if (sym.isPresent()) return sym;
    return elf.section(".rodata").map(s -> OptionalLong.of(s.addr())).orElse(OptionalLong.empty());
  }

  /** The machine code of {@code f}, [entry, end). */
  public byte[] code(GoFunction f) {
    return image.read(f.entry(), f.size(), f.name());
  }

  /** The stack-check prologue of {@code f}, or {@link StackCheck.Shape#NONE}. */
  public StackCheck stackCheck(GoFunction f) {
    return StackChecks.analyse(f, head(f), abi());
  }

  /** The first instructions of {@code f} (at least one). */
  private List<Instruction> head(GoFunction f) {
    byte[] head = image.read(f.entry(), Math.min(f.size(), PROLOGUE_BYTES), f.name());
    List<Instruction> insns = Decoder.shared().decodeAll(head, f.entry());
    if (insns.isEmpty()) {
      throw new BadInputException(String.format("%s: %s: the instruction at 0x%x does not"
          + " decode", elf.name(), f.name(), f.entry()));
    }
    return insns;
  }

  /** Addresses of the {@code ret} instructions of {@code f} (linear sweep of its code). */
  public List<Long> returnSites(GoFunction f) {
    return new Relocator(Decoder.shared()).findReturnSites(code(f), f.entry());
  }

  /**
   * {@code f}'s receiver, arguments and results with their types and where the caller
   * puts them ({@link AbiAssigner}); empty when the binary has no DWARF or DWARF does not
   * describe {@code f}.
   */
  public Optional<List<GoParam>> params(GoFunction f) {
    Optional<DwarfFunction> df = dwarf().flatMap(d -> d.function(f.name()))
        .or(() -> dwarf().flatMap(d -> d.functionAt(f.entry())));
    return df.map(d -> AbiAssigner.assign(d.params(), abi()));
  }

  /** Whether {@code note} marks a Go build (the "Go" note holding the build id). */
  static boolean isGoNote(Note note) {
    return note.name().equals("Go");
  }

  @Override
  public String toString() {
    return elf.name() + " (Go " + version() + ")";
  }
}
