package io.qpatch.arch.x86_64;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.qpatch.error.RefusedException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * FFM binding of the Capstone 4 C API ({@code /usr/include/capstone/capstone.h}), x86-64
 * only. One instance is one {@code csh} handle opened with {@code CS_ARCH_X86,
 * CS_MODE_64} and {@code CS_OPT_DETAIL} on, plus one {@code cs_insn} buffer from
 * {@code cs_malloc} that {@link #disasmIter} fills.
 *
 * <p>Not thread-safe: Capstone's handle and the instruction buffer are mutable C state.
 * Use one instance per thread (or guard it, as {@link Decoder} does). {@link #close()}
 * frees both; using the instance afterwards is an error.
 */
@SuppressWarnings("restricted") // a native binding: library lookup, downcalls, C pointers
public final class Capstone implements AutoCloseable {
  /** The shared object we bind; its soname pins the 4.x struct layouts. */
  public static final String LIBRARY = "libcapstone.so.4";

  // Values of the C enums, checked against the header by CapstoneLayoutTest.
  static final int CS_ARCH_X86 = 3;
  static final int CS_MODE_64 = 1 << 3;
  static final int CS_OPT_DETAIL = 2;
  static final int CS_OPT_ON = 3;
  static final int CS_ERR_OK = 0;
  static final int API_MAJOR = 4;

  private final Arena arena;
  private final MemorySegment handleBox;
  private final long handle;
  private final MemorySegment insn;
  private boolean closed;

  private Capstone(Arena arena, MemorySegment handleBox, MemorySegment insn) {
    this.arena = arena;
    this.handleBox = handleBox;
    this.handle = handleBox.get(JAVA_LONG, 0);
    this.insn = insn;
  }

  /** True when {@value #LIBRARY} can be loaded in this JVM. */
  public static boolean isAvailable() {
    return Lib.LOOKUP.isPresent();
  }

  /**
   * Opens an x86-64 handle with instruction details on.
   *
   * @throws RefusedException when {@value #LIBRARY} is missing or is not Capstone 4
   */
  public static Capstone open() {
    requireLibrary();
    Arena arena = Arena.ofShared();
    MemorySegment handleBox = arena.allocate(JAVA_LONG);
    try {
      check(open(handleBox), "cs_open(CS_ARCH_X86, CS_MODE_64)");
      long handle = handleBox.get(JAVA_LONG, 0);
      check(option(handle, CS_OPT_DETAIL, CS_OPT_ON), "cs_option(CS_OPT_DETAIL)");
      MemorySegment insn = malloc(handle);
      if (insn.equals(MemorySegment.NULL)) throw new OutOfMemoryError("cs_malloc returned NULL");
      long insnSize = CapstoneStructs.CsInsn.LAYOUT.byteSize();
      return new Capstone(arena, handleBox, insn.reinterpret(insnSize));
    } catch (RuntimeException | Error e) {
      if (handleBox.get(JAVA_LONG, 0) != 0) closeHandle(handleBox);
      arena.close();
      throw e;
    }
  }

  private static void requireLibrary() {
    requireLibrary(Lib.LOOKUP);
    int version = version();
    if ((version >> 8) != API_MAJOR) {
      throw new RefusedException(LIBRARY + " reports Capstone API " + (version >> 8) + "."
          + (version & 0xff) + ", qpatch needs 4.x: apt-get install libcapstone4");
    }
  }

  /** The one-line refusal when the library could not be loaded. */
  static void requireLibrary(Optional<SymbolLookup> lookup) {
    if (lookup.isEmpty()) {
      throw new RefusedException(LIBRARY + " not found: apt-get install libcapstone4");
    }
  }

  private static void check(int err, String what) {
    if (err != CS_ERR_OK) {
      throw new IllegalStateException(what + " failed: " + strerror(err));
    }
  }

  /** {@code cs_strerror}: Capstone's text for an error code. */
  public static String strerror(int err) {
    requireLibrary();
    try {
      return cString((MemorySegment) Fn.CS_STRERROR.invokeExact(err));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code cs_disasm_iter}: decodes one instruction at {@code *code} and advances
   * {@code *code}, {@code *size} and {@code *address} past it. The result is in
   * {@link #insn()} until the next call. Returns false at an invalid instruction or
   * at the end of the input.
   */
  boolean disasmIter(MemorySegment codePtr, MemorySegment sizePtr, MemorySegment addressPtr) {
    ensureOpen();
    try {
      return (boolean) Fn.CS_DISASM_ITER.invokeExact(handle, codePtr, sizePtr, addressPtr, insn);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** The {@code cs_insn} that {@link #disasmIter} fills. */
  MemorySegment insn() {
    return insn;
  }

  /** {@code cs_errno}: the last error on this handle (0 when none). */
  public int errno() {
    ensureOpen();
    try {
      return (int) Fn.CS_ERRNO.invokeExact(handle);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code cs_reg_name}, or "" for an id Capstone does not know. */
  public String regName(int regId) {
    ensureOpen();
    try {
      return cString((MemorySegment) Fn.CS_REG_NAME.invokeExact(handle, regId));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code cs_insn_name}, or "" for an id Capstone does not know. */
  public String insnName(int insnId) {
    ensureOpen();
    try {
      return cString((MemorySegment) Fn.CS_INSN_NAME.invokeExact(handle, insnId));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** Frees the instruction buffer ({@code cs_free}) and the handle ({@code cs_close}). */
  @Override
  public void close() {
    if (closed) return;
    closed = true;
    try {
      Fn.CS_FREE.invokeExact(insn, 1L);
    } catch (Throwable t) {
      throw rethrow(t);
    } finally {
      closeHandle(handleBox);
      arena.close();
    }
  }

  private static void closeHandle(MemorySegment handleBox) {
    try {
      check((int) Fn.CS_CLOSE.invokeExact(handleBox), "cs_close");
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  private void ensureOpen() {
    if (closed) throw new IllegalStateException("Capstone handle is closed");
  }

  private static String cString(MemorySegment p) {
    return p.equals(MemorySegment.NULL) ? "" : p.reinterpret(256).getString(0);
  }

  private static int version() {
    try {
      return (int) Fn.CS_VERSION.invokeExact(MemorySegment.NULL, MemorySegment.NULL);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  private static int open(MemorySegment handleOut) {
    try {
      return (int) Fn.CS_OPEN.invokeExact(CS_ARCH_X86, CS_MODE_64, handleOut);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  private static int option(long handle, int type, long value) {
    try {
      return (int) Fn.CS_OPTION.invokeExact(handle, type, value);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  private static MemorySegment malloc(long handle) {
    try {
      return (MemorySegment) Fn.CS_MALLOC.invokeExact(handle);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** A downcall throws only what the JVM throws; pass those through unchanged. */
  private static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) return r;
    if (t instanceof Error e) throw e;
    throw new IllegalStateException("unexpected checked exception from a Capstone downcall", t);
  }

  /** Loads the library once; empty when it is not installed. */
  private static final class Lib {
    static final Optional<SymbolLookup> LOOKUP = load();

    private static Optional<SymbolLookup> load() {
      try {
        return Optional.of(SymbolLookup.libraryLookup(LIBRARY, Arena.global()));
      } catch (IllegalArgumentException notFound) {
        return Optional.empty();
      }
    }
  }

  /** Downcalls, linked on first use (only after {@link Lib} found the library). */
  private static final class Fn {
    static final MethodHandle CS_VERSION =
        link("cs_version", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle CS_OPEN =
        link("cs_open", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    static final MethodHandle CS_OPTION =
        link("cs_option", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG));
    static final MethodHandle CS_MALLOC =
        link("cs_malloc", FunctionDescriptor.of(ADDRESS, JAVA_LONG));
    static final MethodHandle CS_FREE =
        link("cs_free", FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG));
    static final MethodHandle CS_CLOSE =
        link("cs_close", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle CS_DISASM_ITER = link("cs_disasm_iter",
        FunctionDescriptor.of(JAVA_BOOLEAN, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle CS_ERRNO =
        link("cs_errno", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
    static final MethodHandle CS_STRERROR =
        link("cs_strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    static final MethodHandle CS_REG_NAME =
        link("cs_reg_name", FunctionDescriptor.of(ADDRESS, JAVA_LONG, JAVA_INT));
    static final MethodHandle CS_INSN_NAME =
        link("cs_insn_name", FunctionDescriptor.of(ADDRESS, JAVA_LONG, JAVA_INT));

    private static MethodHandle link(String name, FunctionDescriptor fd) {
      MemorySegment symbol = Lib.LOOKUP.orElseThrow().find(name).orElseThrow(() ->
          new RefusedException(LIBRARY + " has no " + name + ": apt-get install libcapstone4"));
      return Linker.nativeLinker().downcallHandle(symbol, fd);
    }
  }
}
