package io.qpatch.link;

/**
 * A {@code __thread} variable of the target's main executable, which lives in the static TLS
 * block of every thread at a fixed offset from the thread pointer (%fs).
 *
 * @param origin "main!counter", for messages
 * @param tpOffset address minus the thread pointer, negative (x86-64 uses TLS variant II:
 *     the block lies below the TCB); used by GOTTPOFF and TPOFF32
 * @param moduleId the dynamic linker's TLS module id, 1 for the main executable; with
 *     {@code dtpOffset} it forms the tls_index that __tls_get_addr takes (TLSGD)
 * @param dtpOffset offset of the variable inside its module's TLS block (its st_value)
 */
public record ThreadLocalSymbol(String origin, long tpOffset, long moduleId, long dtpOffset) {}
