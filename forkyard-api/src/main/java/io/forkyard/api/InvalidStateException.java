package io.forkyard.api;

/** The operation is not allowed in the object's current state. */
public class InvalidStateException extends ForkyardException {
  public InvalidStateException(String message) {
    super(ErrorCode.INVALID_STATE, message);
  }

  public InvalidStateException(String message, Throwable cause) {
    super(ErrorCode.INVALID_STATE, message, cause);
  }
}
