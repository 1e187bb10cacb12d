package io.forkyard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.forkyard.api.CheckpointOptions;
import io.forkyard.api.Sandbox;
import io.forkyard.api.SandboxInfo;
import io.forkyard.api.SandboxSpec;
import io.forkyard.api.SandboxState;
import io.forkyard.api.SnapshotInfo;
import io.forkyard.api.SnapshotStatus;
import io.forkyard.core.SandboxService;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Ctrl-C on a running {@code forkyard swarm}: the process exits and no sandbox is left running.
 *
 * <p>The swarm reuses a MEMORY snapshot made here whose agent client never answers, so the run is
 * certain to be inside its agents (three parallel forks up, the sequential baseline's fork busy)
 * when SIGINT arrives, without paying for the real base's tool installation. Sandboxes, forks and
 * orchestration are the real ones.
 */
@Tag("integration")
class SwarmInterruptIT {
  private Path stateDir;
  private Path resultsDir;
  private Process swarm;
  private final List<String> stderr = Collections.synchronizedList(new ArrayList<>());

  @BeforeEach
  void setUp() throws IOException {
    Assumptions.assumeFalse(
        Boolean.getBoolean("forkyard.skipIntegration"),
        "integration tests disabled with -Dforkyard.skipIntegration=true");
    stateDir = Files.createTempDirectory(Path.of("/tmp"), "fy-swarm-int-");
    resultsDir = Files.createTempDirectory("fy-swarm-int-results-");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (swarm != null && swarm.isAlive()) {
      swarm.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    if (stateDir == null) {
      return;
    }
    List<String> ids = new ArrayList<>();
    try (SandboxService svc = service()) {
      for (SandboxInfo s : svc.list()) {
        ids.add(s.id().value());
        if (!s.state().isFinal()) {
          svc.terminate(s.id());
        }
      }
    } finally {
      Watchdogs.stop(stateDir);
      deleteTree(stateDir);
      deleteTree(resultsDir);
    }
  }

  @Test
  @Timeout(180)
  void ctrlCWhileAgentsRunTerminatesEverySandboxAndExits() throws Exception {
    Process p = startSwarm(3);
    // 3 forks of phase 2 + the sequential baseline's fresh fork, whose agent hangs
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(200))
        .failFast("swarm exited early: " + stderr, () -> !p.isAlive())
        .until(() -> running() >= 4);
    assertThat(String.join("\n", stderr)).contains("[3/5] sequential baseline:");
    interruptAndAssertNothingLeft(p, 4);
  }

  @Test
  @Timeout(180)
  void ctrlCWhileForksAreBeingMadeTerminatesTheForksStillInFlight() throws Exception {
    Process p = startSwarm(8);
    // some of the batch's forks exist, the fork call has not returned them to the swarm yet
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(50))
        .failFast("swarm exited early: " + stderr, () -> !p.isAlive())
        .until(() -> running() >= 1);
    boolean forking = stderr.stream().noneMatch(l -> l.contains("agent forking done"));
    System.err.println("[swarm cli] SIGINT while the fork batch was in flight: " + forking);
    interruptAndAssertNothingLeft(p, 1);
  }

  private Process startSwarm(int agents) throws Exception {
    String snapshot = hangingBase();
    swarm =
        new ProcessBuilder(
                cli(
                    "swarm",
                    "--snapshot",
                    snapshot,
                    "--agents",
                    Integer.toString(agents),
                    "--offline",
                    "--agent-timeout-secs",
                    "150",
                    "--results",
                    resultsDir.resolve("results.json").toString()))
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    Process p = swarm;
    Thread.ofVirtual().start(() -> collect(p, stderr));
    return p;
  }

  private void interruptAndAssertNothingLeft(Process p, int atLeast) throws Exception {
    new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();

    assertThat(p.waitFor(60, TimeUnit.SECONDS))
        .as("swarm exits after SIGINT; stderr: %s", stderr)
        .isTrue();
    assertThat(p.exitValue()).as("exit code after SIGINT").isNotZero();
    try (SandboxService svc = service()) {
      List<SandboxInfo> all = svc.list();
      assertThat(all).hasSizeGreaterThanOrEqualTo(atLeast);
      assertThat(all)
          .allSatisfy(s -> assertThat(s.state().isFinal()).as(s.id() + " " + s.state()).isTrue());
    }
    assertThat(runscList()).as("runsc containers left").isEmpty();
    assertThat(resultsDir.resolve("results.json")).doesNotExist();
  }

  /** A MEMORY snapshot laid out like a swarm base whose agent client never returns. */
  private String hangingBase() {
    try (SandboxService svc = service();
        Sandbox base = svc.create(SandboxSpec.builder().timeoutSecs(300).build())) {
      base.writeFile("/opt/forkyard-swarm/client.py", "import time\ntime.sleep(600)\n");
      SnapshotInfo snap = base.checkpoint(CheckpointOptions.MEMORY.withStopAfter(true));
      assertThat(snap.status()).isEqualTo(SnapshotStatus.COMPLETED);
      return snap.id().value();
    }
  }

  private long running() {
    try (SandboxService svc = service()) {
      return svc.list().stream().filter(s -> s.state() == SandboxState.RUNNING).count();
    }
  }

  /** The test's view of the state directory; never reaps, so the CLI's sandboxes stay its own. */
  private SandboxService service() {
    return SandboxService.builder()
        .stateDir(stateDir)
        .imagesDir(imagesDir())
        .recover(false)
        .build();
  }

  private static Path imagesDir() {
    String p = System.getProperty("forkyard.test.images", "");
    return p.isBlank() ? SandboxService.defaultStateDir().resolve("images") : Path.of(p);
  }

  private List<String> cli(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(List.of("--state-dir", stateDir.toString(), "--images-dir", imagesDir().toString()));
    cmd.addAll(List.of(args));
    return cmd;
  }

  private static void collect(Process p, List<String> lines) {
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        lines.add(line);
        System.err.println("[swarm cli] " + line);
      }
    } catch (IOException ignored) {
      // the process ended
    }
  }

  private List<String> runscList() throws Exception {
    Path root = stateDir.resolve("runtime").resolve("gvisor").resolve("runsc");
    Process p =
        new ProcessBuilder("runsc", "--root", root.toString(), "list", "-quiet")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out.lines().filter(l -> !l.isBlank()).toList();
  }

  private static void deleteTree(Path root) throws IOException {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
