package io.qpatch.trace;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which functions to probe and how: {@code -f/--filter}, {@code -x/--exclude} (each
 * {@code find()}s in the printed name), return probes, demangling.
 */
public record Selection(
    Optional<Pattern> filter, Optional<Pattern> exclude, boolean returns, boolean demangle) {

  public static Selection all() {
    return new Selection(Optional.empty(), Optional.empty(), false, true);
  }

  public Selection withReturns(boolean on) {
    return new Selection(filter, exclude, on, demangle);
  }

  /**
   * A function of a shared library: the filter may name it plain ({@code ^malloc$}) or
   * qualified by the library ({@code libc.so.6!malloc}); the exclusion excludes either.
   */
  public boolean acceptsLibrary(String plain, String qualified) {
    if (filter.isEmpty()) return false;
    if (!filter.get().matcher(plain).find() && !filter.get().matcher(qualified).find()) return false;
    return exclude.isEmpty() || !exclude.get().matcher(plain).find() && !exclude.get().matcher(qualified).find();
  }

  public boolean accepts(String name) {
    if (filter.isPresent() && !filter.get().matcher(name).find()) return false;
    return exclude.isEmpty() || !exclude.get().matcher(name).find();
  }
}
