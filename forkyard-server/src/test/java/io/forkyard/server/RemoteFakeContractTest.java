package io.forkyard.server;

import io.forkyard.api.Sandboxes;
import io.forkyard.client.RemoteSandboxes;
import io.forkyard.testkit.FakeSandboxes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The contract through the REST layer and the remote client over the fake: the same answers and
 * exception types as {@link FakeContractTest} prove the wire format loses nothing.
 */
class RemoteFakeContractTest extends SandboxesContract {
  private static ForkyardServer server;
  private static RemoteSandboxes remote;

  @BeforeAll
  static void start() {
    server =
        ForkyardServer.builder().sandboxes(FakeSandboxes.runningOnHost()).port(0).build().start();
    remote = RemoteSandboxes.connect(server.url(), server.token());
  }

  @AfterAll
  static void stop() {
    remote.close();
    server.stop();
  }

  @Override
  protected Sandboxes sandboxes() {
    return remote;
  }
}
