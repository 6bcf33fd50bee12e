package io.qpatch.proc;

/**
 * One thread of a target as {@code /proc/PID/task/TID/stat} and the registers show it.
 *
 * @param tid the thread id
 * @param name its comm name
 * @param state the kernel's state letter (R running, S sleeping, t traced-stop ...)
 * @param pc the instruction pointer when the thread was stopped for the query, else -1
 */
public record ThreadInfo(int tid, String name, char state, long pc) {}
