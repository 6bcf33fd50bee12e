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

  public boolean accepts(String name) {
    if (filter.isPresent() && !filter.get().matcher(name).find()) return false;
    return exclude.isEmpty() || !exclude.get().matcher(name).find();
  }
}
