package io.forkyard.core;

import io.forkyard.api.NetworkPolicy;
import io.forkyard.api.Resources;
import io.forkyard.api.SandboxId;
import io.forkyard.api.SandboxInfo;
import io.forkyard.api.SandboxState;
import io.forkyard.api.SnapshotId;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/** What the state directory keeps about one sandbox ({@code sandboxes/<id>/sandbox.json}). */
record SandboxRecord(
    SandboxId id,
    String name,
    SandboxState state,
    String runtime,
    String image,
    String rootfs,
    Optional<SnapshotId> sourceSnapshot,
    Resources resources,
    NetworkPolicy network,
    Map<String, String> labels,
    Map<String, String> env,
    String hostname,
    Instant createdAt,
    Instant expiresAt,
    Instant updatedAt,
    long ownerPid,
    String message) {

  SandboxRecord {
    sourceSnapshot = sourceSnapshot == null ? Optional.empty() : sourceSnapshot;
    labels = Map.copyOf(labels == null ? Map.of() : labels);
    env = Map.copyOf(env == null ? Map.of() : env);
    name = name == null ? "" : name;
    message = message == null ? "" : message;
  }

  SandboxRecord withState(SandboxState newState, String why) {
    return new SandboxRecord(
        id,
        name,
        newState,
        runtime,
        image,
        rootfs,
        sourceSnapshot,
        resources,
        network,
        labels,
        env,
        hostname,
        createdAt,
        expiresAt,
        Instant.now(),
        ownerPid,
        why == null ? message : why);
  }

  SandboxInfo info() {
    return new SandboxInfo(
        id,
        name,
        state,
        runtime,
        image,
        sourceSnapshot,
        resources,
        network,
        labels,
        hostname,
        createdAt,
        expiresAt,
        message);
  }
}
