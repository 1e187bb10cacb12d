package io.forkyard.api;

/** Lifecycle of a sandbox. TERMINATED, TIMED_OUT and FAILED are final. */
public enum SandboxState {
  PENDING,
  RUNNING,
  SNAPSHOTTING,
  SUSPENDED,
  TERMINATED,
  TIMED_OUT,
  FAILED;

  public boolean isFinal() {
    return this == TERMINATED || this == TIMED_OUT || this == FAILED;
  }
}
