package io.qpatch.link;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How to link an object.
 *
 * @param name the object's name in the target: its memfd is "qpatch:NAME", so
 *     /proc/PID/maps shows "/memfd:qpatch:NAME"; characters other than letters, digits and
 *     {@code . _ + -} become '_'
 * @param overrides symbol name to address, consulted before anything else (a hook's
 *     reference to the function it hooks, pointed at the trampoline to the original)
 */
public record LinkOptions(String name, Map<String, Long> overrides) {

  public LinkOptions {
    name = sanitize(name);
    overrides = Map.copyOf(overrides);
  }

  public static LinkOptions named(String name) {
    return new LinkOptions(name, Map.of());
  }

  public LinkOptions withOverride(String symbol, long address) {
    Map<String, Long> m = new LinkedHashMap<>(overrides);
    m.put(symbol, address);
    return new LinkOptions(name, m);
  }

  public LinkOptions withOverrides(Map<String, Long> more) {
    Map<String, Long> m = new LinkedHashMap<>(overrides);
    m.putAll(more);
    return new LinkOptions(name, m);
  }

  /** The memfd name: "qpatch:" + name. */
  public String memfdName() {
    return "qpatch:" + name;
  }

  /** memfd names are at most 249 bytes (memfd_create(2)); maps prints them verbatim. */
  static String sanitize(String name) {
    String s = name.replaceAll("[^A-Za-z0-9._+-]", "_");
    if (s.isEmpty()) s = "object";
    return s.length() > 200 ? s.substring(0, 200) : s;
  }
}
