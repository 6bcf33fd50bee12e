package io.qpatch.patch;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * How patience and progress work.
 *
 * @param quietTimeout how long to keep retrying (resume, wait a few ms, stop again) while a
 *     thread executes the bytes an entry jump replaces, before refusing
 * @param unloadWait how long a rollback waits for threads to leave the patch's code (a hook
 *     blocked in the original function, say) before leaving its memory mapped, to be freed
 *     by a later command
 * @param progress where to say what is being waited for
 */
public record PatchOptions(Duration quietTimeout, Duration unloadWait, Consumer<String> progress) {
  public static final PatchOptions DEFAULT =
      new PatchOptions(Duration.ofMillis(500), Duration.ofSeconds(12), message -> {});

  public PatchOptions withProgress(Consumer<String> sink) {
    return new PatchOptions(quietTimeout, unloadWait, sink);
  }

  public PatchOptions withUnloadWait(Duration wait) {
    return new PatchOptions(quietTimeout, wait, progress);
  }

  public PatchOptions withQuietTimeout(Duration timeout) {
    return new PatchOptions(timeout, unloadWait, progress);
  }
}
