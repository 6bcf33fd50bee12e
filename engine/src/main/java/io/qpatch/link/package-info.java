/**
 * Relocate-and-inject: the run-time linker that lays a relocatable object ({@code gcc -c},
 * {@code g++ -c}) into a running process, the one loader of the engine, and {@link
 * io.qpatch.link.Placement}, the one choice of where memory near code goes.
 *
 * <p>Entry points: {@link io.qpatch.link.ObjectLoader#plan} (dry run, no process: every input
 * error and the exact relocated bytes) and {@link io.qpatch.link.ObjectLoader#load}
 * (into a live target through an {@link io.qpatch.link.ObjectMemory}, giving the {@link
 * io.qpatch.link.LinkPlan} laid there).
 *
 * <p>The pipeline ({@code Linker}): choose sections ({@code SectionSelection}, COMDAT groups the
 * target has are dropped), resolve symbols ({@code SymbolBinder}: caller overrides, the
 * object, then the target through a {@link io.qpatch.link.SymbolSource}), check every
 * relocation, lay out three segments with the GOT and veneers ({@code Layout}), pick an
 * address within +-2 GiB of the patched code ({@code Placement}), relocate into an image
 * ({@code RelocationApplier}), and only then create and fill the memory. Anything wrong with the input is a {@link
 * io.qpatch.error.BadInputException} before the target is touched.
 *
 * <p>Decisions worth knowing:
 * <ul>
 *   <li>Memory is a memfd "qpatch:NAME", mapped MAP_SHARED r-x / r-- / rw-; never W+X. Every
 *       segment is filled through the memfd from our side before anything refers to it
 *       (the kernel refuses /proc/PID/mem writes to read-only shared mappings).
 *   <li>IFUNCs resolve to the implementation the process already uses (its GOT), or by calling
 *       the resolver in the target ({@code symbols.Ifuncs}).
 *   <li>Thread-locals: only the executable's, at its static TLS offset (x86-64 variant II);
 *       GOTTPOFF, TPOFF32 and TLSGD (module 1) are supported; an object cannot add TLS.
 *   <li>Far references: calls through 8-byte veneers, GOT-relative loads through the object's
 *       own GOT, {@code lea} of far data rewritten into a GOT load; what remains out of reach
 *       (a direct load of far data by non-PIC code) is refused with advice to use -fPIC.
 *   <li>.eh_frame is kept and registered with libgcc's unwinder when the target has it (by the
 *       patch engine, under its record's protection), so C++ exceptions work in patch code.
 * </ul>
 */
package io.qpatch.link;
