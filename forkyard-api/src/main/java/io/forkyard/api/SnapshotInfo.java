package io.forkyard.api;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * A durable, immutable snapshot.
 *
 * @param sourceSandbox the sandbox that was checkpointed
 * @param parent the snapshot that sandbox was itself forked from, if any
 * @param image the image at the bottom of the chain
 * @param resources fixed for forks of a MEMORY snapshot
 * @param checksum SHA-256 over the snapshot's files, hex; empty while IN_PROGRESS
 * @param message why it FAILED; empty otherwise
 */
public record SnapshotInfo(
    SnapshotId id,
    SnapshotType type,
    SnapshotStatus status,
    String runtime,
    SandboxId sourceSandbox,
    Optional<SnapshotId> parent,
    String image,
    Resources resources,
    long sizeBytes,
    Instant createdAt,
    String checksum,
    Map<String, String> labels,
    String message) {
  public SnapshotInfo {
    parent = parent == null ? Optional.empty() : parent;
    checksum = checksum == null ? "" : checksum;
    labels = Map.copyOf(labels == null ? Map.of() : labels);
    message = message == null ? "" : message;
  }
}
