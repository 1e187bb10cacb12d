package io.forkyard.api;

/** Only COMPLETED snapshots can be forked. */
public enum SnapshotStatus {
  IN_PROGRESS,
  COMPLETED,
  FAILED
}
