package io.qpatch.link;

import java.util.Map;
import java.util.Optional;

/**
 * Where the undefined symbols of an object are looked up: the target process ({@link
 * ProcessSymbolSource}) or, for a dry run without a process, a fixed table ({@link #of}).
 */
public interface SymbolSource {

  /**
   * The definition an undefined reference to {@code name} binds to, thread-locals excluded.
   * An IFUNC comes back as its implementation, never its resolver.
   */
  Optional<TargetSymbol> lookup(String name);

  /** A thread-local variable reachable from patch code (see {@link ThreadLocalSymbol}). */
  Optional<ThreadLocalSymbol> lookupThreadLocal(String name);

  /** How messages name the place searched: "process 1234". */
  String describe();

  /** A fixed table of non-TLS symbols, every one taken as a function. */
  static SymbolSource of(Map<String, Long> addresses, String description) {
    return new SymbolSource() {
      @Override
      public Optional<TargetSymbol> lookup(String name) {
        return Optional.ofNullable(addresses.get(name))
            .map(a -> new TargetSymbol(a, true, description + "!" + name));
      }

      @Override
      public Optional<ThreadLocalSymbol> lookupThreadLocal(String name) {
        return Optional.empty();
      }

      @Override
      public String describe() {
        return description;
      }
    };
  }
}
