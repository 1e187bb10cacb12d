package io.forkyard.api;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * What forkyard knows about one sandbox right now.
 *
 * @param name user-given name, or empty
 * @param image the image the sandbox's root filesystem comes from
 * @param sourceSnapshot the snapshot it was forked from, if any
 * @param hostname the host name visible inside the sandbox (distinct per fork)
 * @param expiresAt when the TTL terminates it
 * @param message why it FAILED or TIMED_OUT; empty otherwise
 */
public record SandboxInfo(
    SandboxId id,
    String name,
    SandboxState state,
    String runtime,
    String image,
    Optional<SnapshotId> sourceSnapshot,
    Resources resources,
    NetworkPolicy network,
    Map<String, String> labels,
    String hostname,
    Instant createdAt,
    Instant expiresAt,
    String message) {
  public SandboxInfo {
    name = name == null ? "" : name;
    sourceSnapshot = sourceSnapshot == null ? Optional.empty() : sourceSnapshot;
    labels = Map.copyOf(labels == null ? Map.of() : labels);
    hostname = hostname == null ? "" : hostname;
    message = message == null ? "" : message;
  }
}
