package io.forkyard.api;

/**
 * Base of every error forkyard reports. The message says what went wrong and, where there is one,
 * what the user should do about it.
 */
public class ForkyardException extends RuntimeException {
  private final ErrorCode code;

  public ForkyardException(ErrorCode code, String message) {
    super(message);
    this.code = code;
  }

  public ForkyardException(ErrorCode code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }

  /** Rebuilds the most specific exception type for a code, e.g. on the client side of REST. */
  public static ForkyardException of(ErrorCode code, String message) {
    return switch (code) {
      case INVALID_REQUEST -> new InvalidRequestException(message);
      case NOT_FOUND -> new NotFoundException(message);
      case INVALID_STATE -> new InvalidStateException(message);
      case SNAPSHOT_NOT_READY -> new SnapshotNotReadyException(message);
      case RUNTIME_UNAVAILABLE -> new RuntimeUnavailableException(message);
      case UNSUPPORTED -> new UnsupportedByRuntimeException(message);
      default -> new ForkyardException(code, message);
    };
  }
}
