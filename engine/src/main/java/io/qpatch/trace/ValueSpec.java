package io.qpatch.trace;

import io.qpatch.trace.go.GoParam;

/**
 * One argument or result to decode.
 *
 * @param name as DWARF names it ("n", "~r0")
 * @param shape what it is
 * @param location where it is at the probe: registers, a stack slot from RSP, or nothing
 * @param packed its registers hold the bytes of its eightbytes in order (SysV psABI
 *     3.2.3: a small struct, a scalar); false: one register per leaf value, in order (Go's
 *     ABIInternal assigns a struct field by field)
 */
record ValueSpec(String name, ValueShape shape, GoParam.Location location, boolean packed) {}
