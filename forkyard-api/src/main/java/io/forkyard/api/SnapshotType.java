package io.forkyard.api;

/** What a checkpoint keeps. */
public enum SnapshotType {
  /** Running processes, their memory and the sandbox's files: forks resume warm. */
  MEMORY,
  /** Only the sandbox's files: forks boot cold from them. */
  FILESYSTEM
}
