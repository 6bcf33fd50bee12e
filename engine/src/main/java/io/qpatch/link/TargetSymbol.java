package io.qpatch.link;

/**
 * A definition outside the object that a reference binds to.
 *
 * @param address its run-time address
 * @param function whether it is code (a far function may be reached through a veneer; far
 *     data may not)
 * @param origin how messages and records name it: "libc.so.6!printf@@GLIBC_2.2.5"
 */
public record TargetSymbol(long address, boolean function, String origin) {}
