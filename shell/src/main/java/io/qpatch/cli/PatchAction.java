package io.qpatch.cli;

/** The seed's patch lifecycle flags: {@code qpatch -o PATCH.o -p PID -l|-a|-r|-q}. */
public enum PatchAction {
  /** {@code -l}: lay the object into the target; nothing is redirected yet. */
  LOAD("-l", "load"),
  /** {@code -a}: redirect the functions the loaded object replaces or hooks. */
  ACTIVATE("-a", "activate"),
  /** {@code -r}: deactivate and unload. */
  ROLLBACK("-r", "rollback"),
  /** {@code -q}: print the state of the object's patch (or of every patch). */
  QUERY("-q", "query");

  private final String flag;
  private final String verb;

  PatchAction(String flag, String verb) {
    this.flag = flag;
    this.verb = verb;
  }

  /** The short option that selects this action, e.g. {@code "-l"}. */
  public String flag() {
    return flag;
  }

  /** What the action is called in messages, e.g. {@code "load"}. */
  public String verb() {
    return verb;
  }
}
