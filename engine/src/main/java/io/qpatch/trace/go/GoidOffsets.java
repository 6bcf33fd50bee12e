package io.qpatch.trace.go;

import java.util.OptionalLong;

/**
 * The offset of {@code goid} inside {@code runtime.g} on amd64, per Go version, for
 * binaries without DWARF. The fields before goid (src/runtime/runtime2.go, {@code type g}):
 * stack (16 bytes), stackguard0, stackguard1, _panic, _defer, m (8 each), sched (a gobuf),
 * syscallsp, syscallpc, [syscallbp,] stktopsp, param (8 each), atomicstatus and stackLock
 * (4 each), then goid.
 *
 * <ul>
 *   <li>Go 1.9 to 1.22: gobuf is 7 words (sp, pc, g, ctxt, ret, lr, bp): goid at 152.
 *   <li>Go 1.23 and 1.24: syscallbp added after syscallpc: 160.
 *   <li>Go 1.25: gobuf.ret removed: back to 152.
 * </ul>
 *
 * <p>Verified: 1.19, 1.21, 1.22 and 1.23, against the DWARF of real builds by
 * GoBinaryTest, with every toolchain installed (CI installs exactly these). Derived, not
 * verified here: 1.20 (its g prefix equals 1.19's and 1.21's; only atomicstatus became the
 * 4-byte atomic.Uint32), 1.24 (runtime2.go still has syscallbp and gobuf.ret), 1.25 (the
 * runtime2.go of Go's master has syscallbp but no gobuf.ret), 1.9 to 1.18 (the same prefix
 * as 1.19). DataDog's agent, whose table is generated from real toolchains' DWARF
 * (pkg/network/go/goid/goid_offset.go), agrees: 0x98 from 1.13, 0xa0 from 1.23. Versions
 * before 1.9 and after 1.25 are unknown: the table says nothing rather than guess.
 */
public final class GoidOffsets {
  private static final int FIRST_MINOR = 9;
  private static final int LAST_MINOR = 25;

  private GoidOffsets() {}

  /** The goid offset for Go {@code version}, or empty when this table does not know it. */
  public static OptionalLong forVersion(GoVersion version) {
    if (version.major() != 1 || version.minor() < FIRST_MINOR || version.minor() > LAST_MINOR) {
      return OptionalLong.empty();
    }
    int minor = version.minor();
    return OptionalLong.of(minor >= 23 && minor <= 24 ? 160 : 152);
  }
}
