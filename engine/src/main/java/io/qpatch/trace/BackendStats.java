package io.qpatch.trace;

/**
 * @param hits probe hits delivered
 * @param lost hits the backend could not deliver (perf ring buffer overruns): never
 *     hidden, always reported
 * @param skippedTaken stack-check hits dropped because the branch to morestack was taken
 */
public record BackendStats(long hits, long lost, long skippedTaken) {}
