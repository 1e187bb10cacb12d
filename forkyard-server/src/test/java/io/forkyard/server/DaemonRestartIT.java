package io.forkyard.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.forkyard.api.CheckpointOptions;
import io.forkyard.api.Command;
import io.forkyard.api.ForkResult;
import io.forkyard.api.SandboxId;
import io.forkyard.api.SandboxInfo;
import io.forkyard.api.SandboxSpec;
import io.forkyard.api.SandboxState;
import io.forkyard.api.SnapshotId;
import io.forkyard.api.SnapshotStatus;
import io.forkyard.client.RemoteSandboxes;
import io.forkyard.core.SandboxService;
import io.forkyard.testkit.RealService;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A daemon restarted over the same state directory on real gVisor: what the first one left is
 * adopted, reaped or failed by the second, as {@code SandboxService.recover()} intends. Both
 * daemons run in this JVM, each over its own {@code SandboxService}; closing the first stops its
 * TTL timers, as a daemon's exit does.
 */
@Tag("integration")
class DaemonRestartIT {
  private Path stateDir;
  private final List<Daemon> daemons = new ArrayList<>();

  /** One daemon: its service, its server on an ephemeral loopback port, a client of it. */
  private record Daemon(SandboxService service, ForkyardServer server, RemoteSandboxes remote)
      implements AutoCloseable {
    static Daemon start(Path stateDir) {
      SandboxService service =
          SandboxService.builder().stateDir(stateDir).imagesDir(RealService.imagesDir()).build();
      ForkyardServer server =
          ForkyardServer.builder().sandboxes(service).stateDir(stateDir).port(0).build().start();
      return new Daemon(service, server, RemoteSandboxes.connect(server.url(), server.token()));
    }

    @Override
    public void close() {
      remote.close();
      server.stop();
      service.close();
    }
  }

  @BeforeEach
  void setUp() throws IOException {
    Assumptions.assumeFalse(
        Boolean.getBoolean("forkyard.skipIntegration"),
        "integration tests disabled with -Dforkyard.skipIntegration=true");
    stateDir = Files.createTempDirectory(Path.of("/tmp"), "fy-restart-it-");
  }

  /** Terminates whatever is left through a fresh service, then deletes the state directory. */
  @AfterEach
  void tearDown() throws IOException {
    daemons.forEach(Daemon::close);
    if (stateDir == null) {
      return;
    }
    try (SandboxService cleanup =
        SandboxService.builder().stateDir(stateDir).imagesDir(RealService.imagesDir()).build()) {
      for (SandboxInfo s : cleanup.list()) {
        if (!s.state().isFinal()) {
          cleanup.terminate(s.id());
        }
      }
      assertThat(cleanup.runtime().liveSandboxes()).isEmpty();
    } finally {
      try (Stream<Path> s = Files.walk(stateDir)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private Daemon start() {
    Daemon d = Daemon.start(stateDir);
    daemons.add(d);
    return d;
  }

  private void stop(Daemon d) {
    daemons.remove(d);
    d.close();
  }

  @Test
  void successorAdoptsLiveSandboxesKeepsTheirTtlReapsExpiredOnesAndForksOldSnapshots()
      throws Exception {
    Daemon first = start();
    SandboxId base = first.remote().create(spec(600)).id();
    assertThat(first.remote().exec(base, Command.shell("echo before > /tmp/state")).exitCode())
        .isZero();
    SnapshotId snap = first.remote().checkpoint(base, CheckpointOptions.MEMORY).id();
    SandboxId expiring = first.remote().create(spec(600)).id();
    SandboxId ttl = first.remote().create(spec(15)).id();
    stop(first);

    // As if the daemon had stayed down past this sandbox's TTL (no timer ran meanwhile).
    edit(
        stateDir.resolve("sandboxes").resolve(expiring.value()).resolve("sandbox.json"),
        n -> n.put("expiresAt", Instant.now().minusSeconds(1).toString()));

    Daemon second = start();
    SandboxInfo reaped = second.remote().info(expiring);
    assertThat(reaped.state()).isEqualTo(SandboxState.TIMED_OUT);
    assertThat(reaped.message()).contains("found at recovery");
    assertThat(second.service().runtime().liveSandboxes()).doesNotContain(expiring);

    assertThat(second.remote().info(base).state()).isEqualTo(SandboxState.RUNNING);
    assertThat(second.remote().exec(base, Command.of("cat", "/tmp/state")).stdout())
        .isEqualTo("before\n");

    List<ForkResult> forks = second.remote().fork(snap, 1);
    assertThat(forks).allMatch(ForkResult::ok);
    SandboxId fork = forks.get(0).sandbox().orElseThrow().id();
    assertThat(second.remote().exec(fork, Command.of("cat", "/tmp/state")).stdout())
        .isEqualTo("before\n");

    // The adopted sandbox's TTL, set by the first daemon, is enforced by the second.
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> second.remote().info(ttl).state() == SandboxState.TIMED_OUT);
    assertThat(second.service().runtime().liveSandboxes()).doesNotContain(ttl);
  }

  /**
   * A daemon killed mid-create (record PENDING, creator gone) or mid-checkpoint (SNAPSHOTTING,
   * nobody holds the sandbox's lock, snapshot IN_PROGRESS) leaves records no operation will ever
   * finish; the successor marks them FAILED at once and destroys their containers.
   */
  @Test
  void successorFailsSandboxesLeftMidOperationByAKilledDaemon() throws Exception {
    Daemon first = start();
    SandboxId creating = first.remote().create(spec(600)).id();
    SandboxId snapshotting = first.remote().create(spec(600)).id();
    SnapshotId snap = first.remote().checkpoint(snapshotting, CheckpointOptions.MEMORY).id();
    stop(first);

    Process dead = new ProcessBuilder("true").start();
    dead.waitFor();
    edit(
        stateDir.resolve("sandboxes").resolve(creating.value()).resolve("sandbox.json"),
        n -> {
          n.put("state", "PENDING");
          n.put("ownerPid", dead.pid());
          n.put("updatedAt", Instant.now().toString());
        });
    edit(
        stateDir.resolve("sandboxes").resolve(snapshotting.value()).resolve("sandbox.json"),
        n -> {
          n.put("state", "SNAPSHOTTING");
          n.put("updatedAt", Instant.now().toString());
        });
    edit(
        stateDir.resolve("snapshots").resolve(snap.value()).resolve("manifest.json"),
        n -> n.put("status", "IN_PROGRESS"));

    Daemon second = start();
    for (SandboxId id : List.of(creating, snapshotting)) {
      SandboxInfo info = second.remote().info(id);
      assertThat(info.state()).as(id.value()).isEqualTo(SandboxState.FAILED);
      assertThat(info.message()).contains("interrupted while");
    }
    assertThat(second.remote().snapshot(snap).status()).isEqualTo(SnapshotStatus.FAILED);
    assertThat(second.service().runtime().liveSandboxes()).doesNotContain(creating, snapshotting);
    assertThat(second.remote().list())
        .noneMatch(
            s -> s.state() == SandboxState.PENDING || s.state() == SandboxState.SNAPSHOTTING);
  }

  private static SandboxSpec spec(long ttlSecs) {
    return SandboxSpec.builder().timeoutSecs(ttlSecs).build();
  }

  private interface Edit {
    void apply(ObjectNode node);
  }

  private static void edit(Path json, Edit edit) throws IOException {
    ObjectMapper m = new ObjectMapper();
    ObjectNode node = (ObjectNode) m.readTree(json.toFile());
    edit.apply(node);
    m.writeValue(json.toFile(), node);
  }
}
