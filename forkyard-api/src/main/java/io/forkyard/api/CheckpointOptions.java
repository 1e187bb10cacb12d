package io.forkyard.api;

import java.util.Map;

/**
 * How to checkpoint.
 *
 * @param type MEMORY (default) or FILESYSTEM
 * @param stopAfter terminate the sandbox once the snapshot is COMPLETED instead of keeping it
 *     running
 * @param labels stored with the snapshot
 */
public record CheckpointOptions(SnapshotType type, boolean stopAfter, Map<String, String> labels) {
  public static final CheckpointOptions MEMORY =
      new CheckpointOptions(SnapshotType.MEMORY, false, Map.of());
  public static final CheckpointOptions FILESYSTEM =
      new CheckpointOptions(SnapshotType.FILESYSTEM, false, Map.of());

  public CheckpointOptions {
    type = type == null ? SnapshotType.MEMORY : type;
    labels = Map.copyOf(labels == null ? Map.of() : labels);
  }

  public static CheckpointOptions of(SnapshotType type) {
    return new CheckpointOptions(type, false, Map.of());
  }

  public CheckpointOptions withStopAfter(boolean stop) {
    return new CheckpointOptions(type, stop, labels);
  }
}
