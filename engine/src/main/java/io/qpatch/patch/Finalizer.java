package io.qpatch.patch;

import java.util.List;

/**
 * What unloading a patch runs in the target, the way the dynamic linker unloads a library
 * (glibc elf/dl-close.c): the {@code .fini_array} entries, last one first, then {@code
 * __cxa_finalize(__dso_handle)}, which runs the destructors of the object's static C++
 * objects (g++ registers them with {@code __cxa_atexit} against the object's own {@code
 * __dso_handle}, Itanium C++ ABI 3.3.5) and forgets them, so that the process's exit never
 * calls into unmapped memory.
 *
 * @param dsoHandle the object's {@code __dso_handle}, 0 when it has none
 * @param cxaFinalize {@code __cxa_finalize} in the target, 0 when it has none
 * @param fini the {@code .fini_array} entries in the order to call them
 */
public record Finalizer(long dsoHandle, long cxaFinalize, List<Long> fini) {
  public static final Finalizer NONE = new Finalizer(0, 0, List.of());

  public Finalizer {
    fini = List.copyOf(fini);
  }
}
