package io.forkyard.core;

import io.forkyard.api.NetworkPolicy;
import io.forkyard.api.Resources;
import io.forkyard.api.SandboxId;
import io.forkyard.api.SnapshotId;
import io.forkyard.api.SnapshotInfo;
import io.forkyard.api.SnapshotStatus;
import io.forkyard.api.SnapshotType;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code snapshots/<id>/manifest.json}: what a snapshot is and which files make it up. The per-file
 * sizes and hashes let a fork refuse a partial or corrupted snapshot.
 *
 * @param rootfs host path of the read-only root filesystem the snapshot sits on (an image's rootfs,
 *     or a FILESYSTEM snapshot's tree); forks of a MEMORY snapshot need the same one
 * @param imageRecipeHash recipe hash of the image at checkpoint time
 * @param files the snapshot's data files, relative to the snapshot directory
 */
record SnapshotManifest(
    String format,
    int version,
    SnapshotId id,
    SnapshotType type,
    SnapshotStatus status,
    String runtime,
    String runtimeVersion,
    SandboxId sourceSandbox,
    Optional<SnapshotId> parent,
    String image,
    String imageRecipeHash,
    String rootfs,
    Resources resources,
    NetworkPolicy network,
    Map<String, String> env,
    Map<String, String> labels,
    Instant createdAt,
    long sizeBytes,
    String checksum,
    List<FileDigest> files,
    String message) {

  static final String FORMAT = "forkyard-snapshot";
  static final int VERSION = 1;

  SnapshotManifest {
    parent = parent == null ? Optional.empty() : parent;
    env = Map.copyOf(env == null ? Map.of() : env);
    labels = Map.copyOf(labels == null ? Map.of() : labels);
    files = List.copyOf(files == null ? List.of() : files);
    checksum = checksum == null ? "" : checksum;
    message = message == null ? "" : message;
  }

  record FileDigest(String path, long size, String sha256) {}

  SnapshotManifest completed(long size, String sum, List<FileDigest> digests) {
    return new SnapshotManifest(
        format,
        version,
        id,
        type,
        SnapshotStatus.COMPLETED,
        runtime,
        runtimeVersion,
        sourceSandbox,
        parent,
        image,
        imageRecipeHash,
        rootfs,
        resources,
        network,
        env,
        labels,
        createdAt,
        size,
        sum,
        digests,
        "");
  }

  SnapshotManifest failed(String why) {
    return new SnapshotManifest(
        format,
        version,
        id,
        type,
        SnapshotStatus.FAILED,
        runtime,
        runtimeVersion,
        sourceSandbox,
        parent,
        image,
        imageRecipeHash,
        rootfs,
        resources,
        network,
        env,
        labels,
        createdAt,
        sizeBytes,
        checksum,
        files,
        why);
  }

  SnapshotInfo info() {
    return new SnapshotInfo(
        id,
        type,
        status,
        runtime,
        sourceSandbox,
        parent,
        image,
        resources,
        sizeBytes,
        createdAt,
        checksum,
        labels,
        message);
  }
}
