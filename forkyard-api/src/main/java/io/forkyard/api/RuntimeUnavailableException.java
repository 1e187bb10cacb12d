package io.forkyard.api;

/** The runtime's host tools are missing or unusable. */
public class RuntimeUnavailableException extends ForkyardException {
  public RuntimeUnavailableException(String message) {
    super(ErrorCode.RUNTIME_UNAVAILABLE, message);
  }

  public RuntimeUnavailableException(String message, Throwable cause) {
    super(ErrorCode.RUNTIME_UNAVAILABLE, message, cause);
  }
}
