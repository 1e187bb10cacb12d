package io.forkyard.core.spi;

import io.forkyard.api.NetworkPolicy;
import io.forkyard.api.Resources;
import io.forkyard.api.SandboxId;
import java.nio.file.Path;
import java.util.Map;

/**
 * Everything a runtime needs to know about one sandbox. The service owns these values; the runtime
 * keeps its own files under {@link #dir()} and nowhere else (besides its runtime root).
 *
 * @param dir host directory owned by this sandbox; removed by the service after destroy
 * @param rootfs read-only host directory with the root filesystem (an image, or a FILESYSTEM
 *     snapshot's tree). The runtime must never write into it: the sandbox's changes live in the
 *     sandbox (for gVisor: in its memory overlay) so that a MEMORY checkpoint captures them.
 * @param hostname host name to show inside the sandbox (set again after every restore)
 * @param env environment every command in the sandbox starts with
 */
public record RuntimeSandbox(
    SandboxId id,
    Path dir,
    Path rootfs,
    Resources resources,
    NetworkPolicy network,
    String hostname,
    Map<String, String> env) {
  public RuntimeSandbox {
    env = Map.copyOf(env == null ? Map.of() : env);
  }
}
