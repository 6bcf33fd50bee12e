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
 * @param ehFrame the object's {@code .eh_frame}, registered with the target's unwinder at
 *     load ({@code __register_frame}, as ld.so makes a library's unwind tables known): 0
 *     when it has none or the target has no libgcc unwinder
 * @param deregisterFrame {@code __deregister_frame} in the target, called last (the
 *     unwinder must never read an unmapped object's tables)
 * @param framesRegistered the registration happened (the record's flag byte): libgcc
 *     aborts on deregistering tables it never had, so a load cut short before it must not
 */
public record Finalizer(long dsoHandle, long cxaFinalize, List<Long> fini, long ehFrame, long deregisterFrame,
    boolean framesRegistered) {
  public static final Finalizer NONE = new Finalizer(0, 0, List.of(), 0, 0, false);

  public Finalizer {
    fini = List.copyOf(fini);
  }

  boolean mustDeregister() {
    return framesRegistered && ehFrame != 0 && deregisterFrame != 0;
  }

  Finalizer withFramesRegistered(boolean registered) {
    return new Finalizer(dsoHandle, cxaFinalize, fini, ehFrame, deregisterFrame, registered);
  }
}
