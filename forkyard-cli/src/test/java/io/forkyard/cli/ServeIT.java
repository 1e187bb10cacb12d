package io.forkyard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.forkyard.api.Command;
import io.forkyard.api.CommandResult;
import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.SandboxId;
import io.forkyard.api.SandboxInfo;
import io.forkyard.api.SandboxSpec;
import io.forkyard.api.SandboxState;
import io.forkyard.client.RemoteSandboxes;
import io.forkyard.core.SandboxService;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code forkyard serve} as a real process on real gVisor: the CLI talking to it with {@code --url}
 * / {@code FORKYARD_URL}, and what SIGTERM does (refuse new work, finish what is in flight, exit,
 * leave running sandboxes with their TTLs handed to watchdogs).
 */
@Tag("integration")
class ServeIT {
  private static final String JAVA =
      Path.of(System.getProperty("java.home"), "bin", "java").toString();

  private Path stateDir;
  private Process daemon;
  private Thread daemonLogReader;
  private final StringBuffer daemonLog = new StringBuffer();
  private final List<String> ids = new ArrayList<>();

  record Run(int exit, String out, String err) {}

  @BeforeEach
  void setUp() throws IOException {
    Assumptions.assumeFalse(
        Boolean.getBoolean("forkyard.skipIntegration"),
        "integration tests disabled with -Dforkyard.skipIntegration=true");
    stateDir = Files.createTempDirectory(Path.of("/tmp"), "fy-serve-it-");
  }

  /** Kills the daemon if still up, terminates every sandbox, stops our TTL watchdogs. */
  @AfterEach
  void tearDown() throws Exception {
    if (stateDir == null) {
      return;
    }
    try {
      if (daemon != null && daemon.isAlive()) {
        daemon.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
      try (SandboxService s = local(true)) {
        for (SandboxInfo info : s.list()) {
          ids.add(info.id().value());
          if (!info.state().isFinal()) {
            s.terminate(info.id());
          }
        }
        assertThat(s.runtime().liveSandboxes()).isEmpty();
      }
    } finally {
      Watchdogs.stop(stateDir);
      try (Stream<Path> s = Files.walk(stateDir)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  void cliVerbsWorkAgainstTheDaemonWithTheTokenFromTheEnvironmentOrTheStateDirectory()
      throws Exception {
    URI url = startDaemon();
    String token = RemoteSandboxes.localToken(stateDir).orElseThrow();
    Map<String, String> withToken = Map.of("FORKYARD_TOKEN", token);

    Run create =
        cli(withToken, "--url", url.toString(), "sandbox", "create", "--timeout-secs", "300");
    assertThat(create.exit()).as(create.err()).isZero();
    String id = create.out().strip();
    assertThat(id).matches("sb-[0-9a-f]{12}");
    ids.add(id);

    Run exec =
        cli(
            withToken,
            "--url",
            url.toString(),
            "sandbox",
            "exec",
            id,
            "--",
            "sh",
            "-c",
            "echo marker > /tmp/m; cat /tmp/m; echo to-stderr >&2; exit 3");
    assertThat(exec.exit()).as(exec.err()).isEqualTo(3);
    assertThat(exec.out()).isEqualTo("marker\n");
    assertThat(exec.err()).contains("to-stderr");

    Run checkpoint = cli(withToken, "--url", url.toString(), "sandbox", "checkpoint", id);
    assertThat(checkpoint.exit()).as(checkpoint.err()).isZero();
    String snap = checkpoint.out().strip();

    // FORKYARD_URL instead of --url, and no FORKYARD_TOKEN: the token file in --state-dir.
    Map<String, String> viaFile = Map.of("FORKYARD_URL", url.toString());
    Run fork = cli(viaFile, "sandbox", "fork", snap);
    assertThat(fork.exit()).as(fork.err()).isZero();
    String forked = fork.out().strip();
    ids.add(forked);
    Run inFork = cli(viaFile, "sandbox", "exec", forked, "--", "cat", "/tmp/m");
    assertThat(inFork.out()).isEqualTo("marker\n");

    // FORKYARD_TOKEN wins over the (right) token file.
    Run wrong =
        cli(Map.of("FORKYARD_TOKEN", "x".repeat(43)), "--url", url.toString(), "sandbox", "ls");
    assertThat(wrong.exit()).isEqualTo(ErrorCode.UNAUTHORIZED.exitCode());
    assertThat(wrong.err()).startsWith("forkyard: ").contains("bearer token");

    Run rm = cli(viaFile, "sandbox", "rm", id, forked);
    assertThat(rm.exit()).as(rm.err()).isZero();
    assertThat(cli(withToken, "--url", url.toString(), "snapshot", "rm", snap).exit()).isZero();
    try (RemoteSandboxes remote = RemoteSandboxes.connect(url, token)) {
      assertThat(remote.list()).allMatch(s -> s.state().isFinal());
    }
  }

  /**
   * SIGTERM while an exec is in flight: the daemon answers 503 to new work at once, lets the exec
   * finish (it is held until the test releases it through the embedded service), exits, and leaves
   * the state directory consistent: nothing PENDING or SNAPSHOTTING, its sandboxes RUNNING and each
   * TTL handed to the watchdog that enforces it without any daemon.
   */
  @Test
  void sigtermFinishesRequestsInFlightRefusesNewOnesAndHandsTtlsToWatchdogs() throws Exception {
    URI url = startDaemon("--shutdown-grace-secs", "60");
    String token = RemoteSandboxes.localToken(stateDir).orElseThrow();
    try (RemoteSandboxes remote = RemoteSandboxes.connect(url, token);
        SandboxService local = local(false)) {
      SandboxId held = remote.create(SandboxSpec.builder().timeoutSecs(600).build()).id();
      ids.add(held.value());
      CompletableFuture<CommandResult> inFlight =
          CompletableFuture.supplyAsync(
              () ->
                  remote.exec(
                      held,
                      Command.shell(
                          "touch /tmp/started; while [ ! -e /tmp/go ]; do sleep 0.05; done;"
                              + " echo finished")));
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> local.exec(held, Command.of("test", "-e", "/tmp/started")).exitCode() == 0);
      SandboxId shortLived = remote.create(SandboxSpec.builder().timeoutSecs(15).build()).id();
      ids.add(shortLived.value());
      Instant shortExpires = remote.info(shortLived).expiresAt();

      // SIGTERM; Process.destroy() would also close our ends of its stdout and stderr.
      assertThat(daemon.toHandle().destroy()).isTrue();
      await().atMost(Duration.ofSeconds(30)).until(() -> healthStatus(url) == 503);
      assertThatThrownBy(() -> remote.create(SandboxSpec.defaults()))
          .isInstanceOfSatisfying(
              ForkyardException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.RUNTIME_UNAVAILABLE))
          .hasMessageContaining("shutting down");
      assertThat(daemon.isAlive()).isTrue();
      assertThat(inFlight).isNotDone();

      assertThat(local.exec(held, Command.of("touch", "/tmp/go")).exitCode()).isZero();
      CommandResult result = inFlight.get(60, TimeUnit.SECONDS);
      assertThat(result.exitCode()).isZero();
      assertThat(result.stdout()).isEqualTo("finished\n");

      assertThat(daemon.waitFor(60, TimeUnit.SECONDS)).as(daemonLog.toString()).isTrue();
      Instant exitedAt = Instant.now();
      daemonLogReader.join(Duration.ofSeconds(10)); // the log's last lines may still be in the pipe
      assertThat(daemon.exitValue()).isEqualTo(128 + 15);
      assertThatThrownBy(() -> healthStatus(url)).isInstanceOf(ConnectException.class);
      assertThat(daemonLog.toString()).contains("daemon exiting ttlHandedOver=2");

      assertThat(local.list())
          .noneMatch(
              s -> s.state() == SandboxState.PENDING || s.state() == SandboxState.SNAPSHOTTING);
      assertThat(local.info(held).state()).isEqualTo(SandboxState.RUNNING);
      assertThat(local.info(shortLived).state()).isEqualTo(SandboxState.RUNNING);
      assertThat(local.runtime().liveSandboxes()).contains(held, shortLived);
      assertThat(Watchdogs.of(stateDir)).as("one watchdog for the state directory").hasSize(1);

      // With no daemon left, the watchdog enforces the TTL.
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> local.info(shortLived).state() == SandboxState.TIMED_OUT);
      if (exitedAt.isBefore(shortExpires)) {
        assertThat(local.info(shortLived).message()).contains("found at recovery");
      }
      assertThat(local.runtime().liveSandboxes()).doesNotContain(shortLived);
    }
  }

  // ---- helpers

  private URI startDaemon(String... extra) throws IOException {
    List<String> cmd = new ArrayList<>(javaMain());
    cmd.addAll(List.of("serve", "--port", "0"));
    cmd.addAll(List.of(extra));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().remove("FORKYARD_URL");
    pb.environment().remove("FORKYARD_TOKEN");
    pb.environment().remove("FORKYARD_LOG_LEVEL");
    daemon = pb.start();
    daemon.getOutputStream().close();
    daemonLogReader =
        Thread.ofPlatform().daemon().start(() -> drainInto(daemon.getErrorStream(), daemonLog));
    BufferedReader out =
        new BufferedReader(new InputStreamReader(daemon.getInputStream(), StandardCharsets.UTF_8));
    String first = out.readLine();
    Thread.ofPlatform()
        .daemon()
        .start(() -> drainInto(daemon.getInputStream(), new StringBuffer()));
    assertThat(first).as("daemon URL line; log:%n%s", daemonLog).startsWith("http://127.0.0.1:");
    return URI.create(first.strip());
  }

  private List<String> javaMain() {
    return new ArrayList<>(
        List.of(
            JAVA,
            "-cp",
            System.getProperty("java.class.path"),
            Main.class.getName(),
            "--state-dir",
            stateDir.toString(),
            "--images-dir",
            TestImages.dir().toString()));
  }

  private Run cli(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(javaMain());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    Map<String, String> e = pb.environment();
    e.remove("FORKYARD_URL");
    e.remove("FORKYARD_TOKEN");
    e.putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    CompletableFuture<byte[]> out = drain(p.getInputStream());
    CompletableFuture<byte[]> err = drain(p.getErrorStream());
    if (!p.waitFor(3, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("forkyard " + String.join(" ", args) + " did not finish");
    }
    return new Run(
        p.exitValue(),
        new String(out.get(), StandardCharsets.UTF_8),
        new String(err.get(), StandardCharsets.UTF_8));
  }

  /** A service on the daemon's state directory, for what the test does behind its back. */
  private SandboxService local(boolean recover) {
    return SandboxService.builder()
        .stateDir(stateDir)
        .imagesDir(TestImages.dir())
        .recover(recover)
        .build();
  }

  private static int healthStatus(URI url) throws IOException, InterruptedException {
    try (HttpClient http = HttpClient.newHttpClient()) {
      return http.send(
              HttpRequest.newBuilder(url.resolve("/v1/health")).build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    }
  }

  private static void drainInto(InputStream in, StringBuffer sink) {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        sink.append(line).append('\n');
      }
    } catch (IOException ignored) {
      // the process ended
    }
  }

  private static CompletableFuture<byte[]> drain(InputStream s) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (s) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            s.transferTo(b);
            return b.toByteArray();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }
}
