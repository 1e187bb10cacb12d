package io.forkyard.server;

import io.forkyard.api.Sandboxes;
import io.forkyard.testkit.RealService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

/** The contract against the embedded SandboxService on real gVisor sandboxes. */
@Tag("integration")
class EmbeddedContractTest extends SandboxesContract {
  private static RealService real;

  @BeforeAll
  static void start() throws Exception {
    real = RealService.start("fy-server-it-");
  }

  @AfterAll
  static void stop() {
    if (real != null) {
      real.close();
    }
  }

  @Override
  protected Sandboxes sandboxes() {
    return real.service;
  }
}
