package io.forkyard.api;

/** A sandbox, snapshot, image or process with that id does not exist. */
public class NotFoundException extends ForkyardException {
  public NotFoundException(String message) {
    super(ErrorCode.NOT_FOUND, message);
  }

  public NotFoundException(String message, Throwable cause) {
    super(ErrorCode.NOT_FOUND, message, cause);
  }
}
