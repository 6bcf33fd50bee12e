package io.qpatch.sys;

/**
 * The fields of x86-64 {@code struct user_regs_struct} (sys/user.h), in declaration
 * order: the order is the layout, so do not reorder.
 */
public enum Reg {
  R15, R14, R13, R12, RBP, RBX, R11, R10, R9, R8, RAX, RCX, RDX, RSI, RDI, ORIG_RAX, RIP, CS,
  EFLAGS, RSP, SS, FS_BASE, GS_BASE, DS, ES, FS, GS;

  /** The C field name, e.g. "orig_rax". */
  public String field() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
