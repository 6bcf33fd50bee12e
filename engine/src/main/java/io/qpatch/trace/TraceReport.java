package io.qpatch.trace;

/**
 * How a trace ended, for the closing lines and the formats' trailers.
 *
 * @param backend the backend's name
 * @param stats its counters (lost samples included)
 * @param endNanos CLOCK_MONOTONIC time the trace ended
 */
public record TraceReport(String backend, BackendStats stats, long endNanos) {}
