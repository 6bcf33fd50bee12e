package io.qpatch.link;

/** What one symbol of the object stands for once resolved; see {@link SymbolBinder}. */
sealed interface Binding {

  /** Defined by the object: {@code offset} bytes into loaded section {@code section}. */
  record InSection(int section, long offset) implements Binding {}

  /** Outside the object: a caller override or a definition in the target. */
  record External(TargetSymbol target) implements Binding {}

  /** A fixed value: SHN_ABS symbols, and 0 for a weak reference nobody defines. */
  record Absolute(long value) implements Binding {}

  /** A {@code __thread} variable of the target's executable. */
  record ThreadLocal(ThreadLocalSymbol symbol) implements Binding {}

  /** {@code _GLOBAL_OFFSET_TABLE_}: the object's own GOT. */
  record GotBase() implements Binding {}

  /**
   * {@code __dso_handle}: an 8-byte word in the object's data. g++ registers destructors of
   * static objects with {@code __cxa_atexit(dtor, obj, &__dso_handle)}; a handle of our own
   * lets {@code __cxa_finalize(handle)} run exactly the patch's destructors at unload.
   */
  record DsoHandle() implements Binding {}

  /**
   * A local symbol in a dropped COMDAT group. Only .eh_frame may refer to one (the FDE of a
   * function whose copy was dropped); that FDE's address is made null, see {@link
   * RelocationApplier}.
   */
  record Discarded(int section) implements Binding {}

  /** A COMMON symbol (-fcommon) the target does not define: allocated in the object's data. */
  record Common(int symbol, long size, long align) implements Binding {}
}
