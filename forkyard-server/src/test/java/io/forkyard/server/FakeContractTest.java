package io.forkyard.server;

import io.forkyard.api.Sandboxes;
import io.forkyard.testkit.FakeSandboxes;

/** The contract against the in-test fake directly: keeps the fake honest. */
class FakeContractTest extends SandboxesContract {
  private final FakeSandboxes fake = FakeSandboxes.runningOnHost();

  @Override
  protected Sandboxes sandboxes() {
    return fake;
  }
}
