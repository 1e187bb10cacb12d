package io.forkyard.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkyard.api.Sandbox;
import io.forkyard.api.SandboxSpec;
import io.forkyard.api.SandboxState;
import io.forkyard.testkit.RealService;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** A sandbox that dies while no command runs is noticed by the service's liveness sweep. */
@Tag("integration")
class IdleDeathIT {
  private RealService real;

  @BeforeEach
  void open() throws Exception {
    real = RealService.start();
  }

  @AfterEach
  void cleanUp() {
    if (real != null) {
      real.close();
    }
  }

  @Test
  void sandboxKilledOnTheHostWhileIdleBecomesFailed() throws Exception {
    Sandbox sb = real.service.create(SandboxSpec.builder().timeoutSecs(300).build());
    // runsc records the pid of the sandbox's gVisor kernel process in its state file.
    String id = sb.id().value();
    Path stateFile =
        real.stateDir.resolve("runtime/gvisor/runsc").resolve(id + "_sandbox:" + id + ".state");
    long pid = new ObjectMapper().readTree(stateFile.toFile()).path("sandbox").path("pid").asLong();
    ProcessHandle sentry = ProcessHandle.of(pid).orElseThrow();

    sentry.destroyForcibly();

    // The sweep runs every 10 s by default.
    await()
        .atMost(Duration.ofSeconds(40))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> sb.info().state() == SandboxState.FAILED);
    assertThat(sb.info().message()).contains("died while idle");
    assertThat(real.service.runtime().liveSandboxes()).doesNotContain(sb.id());
  }
}
