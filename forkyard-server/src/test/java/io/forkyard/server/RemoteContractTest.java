package io.forkyard.server;

import io.forkyard.api.Sandboxes;
import io.forkyard.client.RemoteSandboxes;
import io.forkyard.testkit.RealService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

/**
 * The contract against RemoteSandboxes talking to a ForkyardServer on 127.0.0.1:(ephemeral) over a
 * real SandboxService on gVisor: the same tests as {@link EmbeddedContractTest}.
 */
@Tag("integration")
class RemoteContractTest extends SandboxesContract {
  private static RealService real;
  private static ForkyardServer server;
  private static RemoteSandboxes remote;

  @BeforeAll
  static void start() throws Exception {
    real = RealService.start("fy-server-it-");
    server =
        ForkyardServer.builder()
            .sandboxes(real.service)
            .stateDir(real.stateDir)
            .port(0)
            .build()
            .start();
    remote = RemoteSandboxes.connect(server.url(), server.token());
  }

  @AfterAll
  static void stop() {
    if (remote != null) {
      remote.close();
    }
    if (server != null) {
      server.stop();
    }
    if (real != null) {
      real.close();
    }
  }

  @Override
  protected Sandboxes sandboxes() {
    return remote;
  }
}
