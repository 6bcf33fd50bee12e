package io.qpatch.patch;

import java.time.Instant;
import java.util.List;

/**
 * What {@code qpatch -q} reports about one patch loaded in a target.
 *
 * @param name the object's file name
 * @param path the object's path when it was loaded
 * @param hash the object's SHA-256 in hex
 * @param state its lifecycle state
 * @param loadedAt when it was loaded
 * @param recordAddress where its record lies in the target
 * @param functions the functions it takes over
 * @param note anything unusual: an interrupted activation, memory still in use; or ""
 */
public record PatchStatus(
    String name,
    String path,
    String hash,
    PatchState state,
    Instant loadedAt,
    long recordAddress,
    List<FunctionStatus> functions,
    String note) {

  /** Keeps an unmodifiable copy of the function list. */
  public PatchStatus {
    functions = List.copyOf(functions);
  }

  /**
   * One function a patch takes over.
   *
   * @param name its symbol name
   * @param module the module defining it
   * @param kind replace or hook
   * @param address its entry in the target
   * @param replacement the patch's function that takes over
   * @param stub this patch's stub for it
   * @param trampoline the relocated original prologue
   * @param entry what the entry does now: "redirected", "not redirected", "under PATCH"
   *     (another patch is on top), "changed by something else"
   */
  public record FunctionStatus(
      String name, String module, RedirectKind kind, long address, long replacement, long stub,
      long trampoline, String entry) {
    /** "replace sleep (libc.so.6)". */
    public String describe() {
      return kind.describe(name, module);
    }
  }

  /** The first 12 hex digits of the hash. */
  public String shortHash() {
    return hash.substring(0, Math.min(12, hash.length()));
  }
}
