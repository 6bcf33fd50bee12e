package io.qpatch.proc;

/**
 * Receives the stops of processes the target forked while it was traced with fork
 * following on ({@link Target#followForks}): the kernel attaches them to us
 * (PTRACE_O_TRACEFORK / TRACEVFORK), they are no thread of the target, and their
 * memory holds whatever the tracer planted in the parent (a vfork child even shares it).
 * A tracer that plants breakpoints must clean them out of a forked copy, or answer them
 * in a vfork child until it execs, then let the child go; nobody else will.
 *
 * <p>Called on the tracer thread by the blocking event loop ({@link
 * Tracer#serveEvents}) with each raw wait status of such a child; the handler resumes or
 * detaches it with {@link io.qpatch.sys.Ptrace} itself.
 */
@FunctionalInterface
public interface ForkHandler {
  void onChildStatus(int pid, int rawStatus);
}
