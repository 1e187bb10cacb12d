package io.forkyard.server;

import io.forkyard.api.Sandboxes;

/** The contract against the in-test fake directly: keeps the fake honest. */
class FakeContractTest extends SandboxesContract {
  private final FakeSandboxes fake = new FakeSandboxes();

  @Override
  protected Sandboxes sandboxes() {
    return fake;
  }
}
