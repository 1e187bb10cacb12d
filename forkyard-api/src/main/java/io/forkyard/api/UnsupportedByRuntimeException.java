package io.forkyard.api;

/** The runtime behind the sandbox lacks the capability for this operation. */
public class UnsupportedByRuntimeException extends ForkyardException {
  public UnsupportedByRuntimeException(String message) {
    super(ErrorCode.UNSUPPORTED, message);
  }

  public UnsupportedByRuntimeException(String message, Throwable cause) {
    super(ErrorCode.UNSUPPORTED, message, cause);
  }
}
