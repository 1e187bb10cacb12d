package io.forkyard.api;

import java.time.Duration;
import java.util.Optional;

/**
 * Outcome for one copy of a batch fork: either a sandbox or the error that stopped this copy. Other
 * copies of the same batch are not affected by one copy's failure.
 */
public record ForkResult(
    int index,
    Optional<SandboxInfo> sandbox,
    Optional<ErrorCode> errorCode,
    String errorMessage,
    Duration duration) {
  public ForkResult {
    if (sandbox.isPresent() == errorCode.isPresent()) {
      throw new IllegalArgumentException("a fork result has exactly one of sandbox and error");
    }
    errorMessage = errorMessage == null ? "" : errorMessage;
  }

  public static ForkResult succeeded(int index, SandboxInfo sandbox, Duration duration) {
    return new ForkResult(index, Optional.of(sandbox), Optional.empty(), "", duration);
  }

  public static ForkResult failed(int index, ForkyardException error, Duration duration) {
    return new ForkResult(
        index, Optional.empty(), Optional.of(error.code()), error.getMessage(), duration);
  }

  public boolean ok() {
    return sandbox.isPresent();
  }
}
