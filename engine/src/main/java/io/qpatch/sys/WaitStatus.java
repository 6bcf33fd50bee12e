package io.qpatch.sys;

/**
 * A raw wait status as filled in by waitpid, decoded as glibc's bits/waitstatus.h
 * macros do; {@link #event()} is the ptrace event in bits 16..23 (ptrace(2), "PTRACE_EVENT
 * stops").
 */
public record WaitStatus(int raw) {
  public boolean exited() {
    return (raw & 0x7f) == 0;
  }

  public int exitCode() {
    return (raw >> 8) & 0xff;
  }

  public boolean signaled() {
    int sig = raw & 0x7f;
    return sig != 0 && sig != 0x7f;
  }

  public int termSignal() {
    return raw & 0x7f;
  }

  public boolean stopped() {
    return (raw & 0xff) == 0x7f;
  }

  public int stopSignal() {
    return (raw >> 8) & 0xff;
  }

  /** The PTRACE_EVENT_* number of a ptrace event stop, else 0. */
  public int event() {
    return (raw >> 16) & 0xff;
  }

  /** The thread or process is gone (exited or killed). */
  public boolean terminated() {
    return exited() || signaled();
  }

  @Override
  public String toString() {
    if (exited()) return "exited(" + exitCode() + ")";
    if (stopped()) {
      String ev = event() != 0 ? ", event " + event() : "";
      return "stopped(" + Signals.name(stopSignal()) + ev + ")";
    }
    if (signaled()) return "killed(" + Signals.name(termSignal()) + ")";
    return "status(0x" + Integer.toHexString(raw) + ")";
  }
}
