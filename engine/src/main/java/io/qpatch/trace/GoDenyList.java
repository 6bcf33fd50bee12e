package io.qpatch.trace;

import java.util.Set;

/**
 * Go runtime functions that are never probed, each for a reason found by tracing real
 * programs (see GoTraceTest, which runs a traced program to completion under every
 * installed toolchain and both backends).
 *
 * <ul>
 *   <li>Stack switching and frame-less assembly ({@code runtime.morestack*}, {@code
 *       runtime.rt0_go}, {@code runtime.gogo}, {@code runtime.mcall}, {@code
 *       runtime.systemstack_switch}): ABI0 code that runs between stacks, with no g of its
 *       own in R14; a probe there tells nothing and the out-of-line copy of its first
 *       instruction would run with a half-switched stack.
 *   <li>Signal entry and return ({@code runtime.sigtramp}, {@code runtime.sigreturn*},
 *       {@code runtime.cgoSigtramp}): the kernel's signal frame layout is assumed there.
 *   <li>{@code runtime.asmcgocall*}, {@code runtime.cgocallback}: switch to the system
 *       stack around C code.
 * </ul>
 */
final class GoDenyList {
  private static final Set<String> DENIED = Set.of(
      "runtime.morestack", "runtime.morestack_noctxt", "runtime.rt0_go", "_rt0_amd64",
      "_rt0_amd64_linux", "runtime.gogo", "runtime.mcall", "runtime.systemstack_switch",
      "runtime.sigtramp", "runtime.sigreturn", "runtime.sigreturn__sigaction",
      "runtime.cgoSigtramp", "runtime.asmcgocall", "runtime.asmcgocall_no_g",
      "runtime.cgocallback", "runtime.goexit", "runtime.asyncPreempt");

  private GoDenyList() {}

  static boolean denied(String name) {
    return DENIED.contains(name);
  }
}
