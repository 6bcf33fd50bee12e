package io.qpatch.patch;

/** How a patch takes over a function of the target. */
public enum RedirectKind {
  /** The patch defines a function of the same name: calls go to the new version. */
  REPLACE(1, "replace"),
  /**
   * The patch defines {@code _qpatch_hookfun_NAME}: calls to NAME go to the hook, and the
   * hook's own calls to NAME reach the previous version.
   */
  HOOK(2, "hook");

  private final int code;
  private final String word;

  RedirectKind(int code, String word) {
    this.code = code;
    this.word = word;
  }

  int code() {
    return code;
  }

  /** "replace" or "hook", as {@code qpatch -q} prints it. */
  public String word() {
    return word;
  }

  /** "replace sleep (libc.so.6)": how the commands name a function a patch takes over. */
  public String describe(String function, String module) {
    return word + " " + function + " (" + module + ")";
  }

  static RedirectKind of(int code) {
    for (RedirectKind k : values()) {
      if (k.code == code) return k;
    }
    return null;
  }
}
