package io.forkyard.api;

/** The snapshot is IN_PROGRESS or FAILED and cannot be used yet. */
public class SnapshotNotReadyException extends ForkyardException {
  public SnapshotNotReadyException(String message) {
    super(ErrorCode.SNAPSHOT_NOT_READY, message);
  }

  public SnapshotNotReadyException(String message, Throwable cause) {
    super(ErrorCode.SNAPSHOT_NOT_READY, message, cause);
  }
}
