package io.forkyard.api;

/** The request is malformed or has a value out of range. */
public class InvalidRequestException extends ForkyardException {
  public InvalidRequestException(String message) {
    super(ErrorCode.INVALID_REQUEST, message);
  }

  public InvalidRequestException(String message, Throwable cause) {
    super(ErrorCode.INVALID_REQUEST, message, cause);
  }
}
