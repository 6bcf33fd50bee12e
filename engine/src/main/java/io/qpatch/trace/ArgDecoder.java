package io.qpatch.trace;

/**
 * Renders a call's arguments from registers (and target memory, for strings) as
 * {@code x=41, s="hi"}; null when it knows nothing of the function.
 */
@FunctionalInterface
public interface ArgDecoder {
  String decode(TracedFunction function, long[] regs, TargetMemory memory);
}
