// qpatch.h: what a patch can declare about itself. Include it in a patch source.
#pragma once

// QPATCH_TARGET_BUILD_ID("hex"): this patch is only for the program (or library) with that
// GNU build-id; qpatch refuses to load it into a process where no module has it, because a
// patch compiled against other headers would read the program's data at wrong offsets.
// The build-id is what `readelf -n PROGRAM` prints as "Build ID", or `file PROGRAM` as
// "BuildID[sha1]". Use the macro once per build-id, at file scope; several are alternatives.
//
// It puts the string in a section .qpatch.target that is not loaded into the target
// (flags "": no SHF_ALLOC), so it costs the process nothing.
#define QPATCH_TARGET_BUILD_ID(hex)                                          \
  __asm__(".pushsection .qpatch.target,\"\",@progbits\n\t.asciz \"" hex "\"\n\t" \
          ".popsection")

// The functions qpatch calls inside the target, if the patch defines them (C linkage):
//   void _qpatch_init(void);                   once, after loading (after constructors)
//   void _pat_callback_active_before(void);    just before the patch's functions take over
//   void _pat_callback_active_after(void);     just after
//   void _pat_callback_deactive_before(void);  just before a rollback switches back
//   void _pat_callback_deactive_after(void);   just after
// They run in the target's main thread while every thread is stopped: use
// async-signal-safe calls (write(2), not printf, whose lock a stopped thread may hold).
#ifdef __cplusplus
#define QPATCH_EXTERN_C extern "C"
#else
#define QPATCH_EXTERN_C
#endif
