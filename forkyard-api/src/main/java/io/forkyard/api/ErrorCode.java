package io.forkyard.api;

/**
 * Every kind of failure forkyard reports. Mapped here, once, to an HTTP status for the daemon and
 * an exit code for the CLI.
 */
public enum ErrorCode {
  /** The request itself is wrong (bad value, bad path, empty command). */
  INVALID_REQUEST(400, 2),
  /** A sandbox, snapshot, image or process with that id does not exist. */
  NOT_FOUND(404, 3),
  /** The object exists but is in a state that does not allow the operation. */
  INVALID_STATE(409, 4),
  /** A snapshot is still IN_PROGRESS or has FAILED and cannot be forked. */
  SNAPSHOT_NOT_READY(409, 5),
  /** A snapshot's files are missing or do not match its checksum. */
  SNAPSHOT_CORRUPT(422, 6),
  /** The runtime cannot do this (capability missing), e.g. suspend on a runtime without it. */
  UNSUPPORTED(422, 7),
  /** A size or count limit was exceeded (file too large, too many sandboxes). */
  LIMIT_EXCEEDED(413, 8),
  /** Authentication missing or wrong (daemon only). */
  UNAUTHORIZED(401, 9),
  /** The runtime's tools are missing or broken on this host (runsc not installed, not root). */
  RUNTIME_UNAVAILABLE(503, 10),
  /** An operation did not complete in time. */
  TIMEOUT(504, 11),
  /** Too many requests at once (daemon only). */
  TOO_MANY_REQUESTS(429, 12),
  /** A bug or an unexpected host failure; the message says what failed. */
  INTERNAL(500, 1);

  private final int httpStatus;
  private final int exitCode;

  ErrorCode(int httpStatus, int exitCode) {
    this.httpStatus = httpStatus;
    this.exitCode = exitCode;
  }

  public int httpStatus() {
    return httpStatus;
  }

  public int exitCode() {
    return exitCode;
  }
}
