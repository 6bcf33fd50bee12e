package io.qpatch.patch;

/**
 * The patch's functions qpatch calls inside the target (0 when the patch has none). The
 * names are the original tool's for the four callbacks, and {@code _qpatch_init} for the
 * init function.
 *
 * @param init {@code _qpatch_init}: run once, after the constructors, when the patch is loaded
 * @param activeBefore {@code _pat_callback_active_before}: just before the functions switch
 * @param activeAfter {@code _pat_callback_active_after}: just after they switched
 * @param deactiveBefore {@code _pat_callback_deactive_before}: just before a rollback switches back
 * @param deactiveAfter {@code _pat_callback_deactive_after}: just after it switched back
 */
public record EntryPoints(
    long init, long activeBefore, long activeAfter, long deactiveBefore, long deactiveAfter) {

  public static final String INIT = "_qpatch_init";
  public static final String ACTIVE_BEFORE = "_pat_callback_active_before";
  public static final String ACTIVE_AFTER = "_pat_callback_active_after";
  public static final String DEACTIVE_BEFORE = "_pat_callback_deactive_before";
  public static final String DEACTIVE_AFTER = "_pat_callback_deactive_after";

  public static final EntryPoints NONE = new EntryPoints(0, 0, 0, 0, 0);

  /** Whether {@code name} is one of the special function names above. */
  public static boolean isSpecial(String name) {
    return name.equals(INIT) || name.equals(ACTIVE_BEFORE) || name.equals(ACTIVE_AFTER)
        || name.equals(DEACTIVE_BEFORE) || name.equals(DEACTIVE_AFTER);
  }
}
