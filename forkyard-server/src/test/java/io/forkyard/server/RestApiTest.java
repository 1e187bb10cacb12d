package io.forkyard.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.forkyard.api.Command;
import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.InvalidStateException;
import io.forkyard.api.NotFoundException;
import io.forkyard.api.OutputSink;
import io.forkyard.api.Sandbox;
import io.forkyard.api.SandboxSpec;
import io.forkyard.api.SnapshotInfo;
import io.forkyard.api.SnapshotNotReadyException;
import io.forkyard.api.SnapshotStatus;
import io.forkyard.client.ProcessInfo;
import io.forkyard.client.RemoteSandboxes;
import io.forkyard.client.WireFormat;
import io.forkyard.testkit.FakeSandboxes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The REST layer against the fake: auth, limits, bad input, streaming, processes, metrics. */
class RestApiTest {
  private final HttpClient http = HttpClient.newHttpClient();
  private FakeSandboxes fake;
  private ForkyardServer server;
  private RemoteSandboxes remote;
  private final List<ForkyardServer> extra = new ArrayList<>();

  @BeforeEach
  void start() {
    fake = FakeSandboxes.runningOnHost();
    server =
        ForkyardServer.builder()
            .sandboxes(fake)
            .port(0)
            .maxJsonBytes(4096)
            .maxFileBytes(64 * 1024)
            .maxConcurrentPerClient(2)
            .build()
            .start();
    remote = RemoteSandboxes.connect(server.url(), server.token());
  }

  @AfterEach
  void stop() {
    remote.close();
    server.stop();
    extra.forEach(ForkyardServer::stop);
  }

  private HttpResponse<String> send(String method, String path, String body, boolean auth)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(server.url() + path))
            .method(method, body == null ? BodyPublishers.noBody() : BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    if (auth) {
      b.header("Authorization", "Bearer " + server.token());
    }
    return http.send(b.build(), BodyHandlers.ofString());
  }

  private HttpResponse<String> send(String method, String path, String body) throws Exception {
    return send(method, path, body, true);
  }

  private static JsonNode json(HttpResponse<String> r) throws IOException {
    return WireFormat.mapper().readTree(r.body());
  }

  private static void assertError(HttpResponse<String> r, int status, String code)
      throws IOException {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type"))
        .hasValueSatisfying(ct -> assertThat(ct).startsWith("application/json"));
    JsonNode n = json(r);
    assertThat(n.get("code").asText()).isEqualTo(code);
    assertThat(n.get("message").asText()).isNotBlank();
  }

  private String sandbox() {
    return fake.create(SandboxSpec.defaults()).id().value();
  }

  // ---- auth

  @Test
  void healthNeedsNoToken() throws Exception {
    HttpResponse<String> r = send("GET", "/v1/health", null, false);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(json(r).get("status").asText()).isEqualTo("UP");
  }

  @Test
  void rejectsMissingToken() throws Exception {
    HttpResponse<String> r = send("GET", "/v1/sandboxes", null, false);
    assertError(r, 401, "UNAUTHORIZED");
    assertThat(r.headers().firstValue("WWW-Authenticate"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
    assertError(send("GET", "/metrics", null, false), 401, "UNAUTHORIZED");
    assertError(send("GET", "/openapi.yaml", null, false), 401, "UNAUTHORIZED");
  }

  @Test
  void rejectsWrongToken() throws Exception {
    HttpRequest req =
        HttpRequest.newBuilder(URI.create(server.url() + "/v1/sandboxes"))
            .header("Authorization", "Bearer " + server.token() + "x")
            .build();
    assertError(http.send(req, BodyHandlers.ofString()), 401, "UNAUTHORIZED");
    try (RemoteSandboxes wrong = RemoteSandboxes.connect(server.url(), "not-the-token-at-all")) {
      assertThatThrownBy(wrong::list).hasMessageContaining("bearer token");
    }
  }

  @Test
  void tokenFileIsCreatedOwnerOnlyAndReused(@TempDir Path state) throws Exception {
    ForkyardServer first =
        ForkyardServer.builder().sandboxes(fake).port(0).stateDir(state).build().start();
    extra.add(first);
    Path file = state.resolve("daemon/token");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(Files.readString(file).strip()).isEqualTo(first.token());
    assertThat(RemoteSandboxes.localToken(state)).contains(first.token());
    first.stop();
    ForkyardServer second =
        ForkyardServer.builder().sandboxes(fake).port(0).stateDir(state).build().start();
    extra.add(second);
    assertThat(second.token()).isEqualTo(first.token());
  }

  @Test
  void refusesNonLoopbackBindWithoutToken() {
    assertThatThrownBy(
            () -> ForkyardServer.builder().sandboxes(fake).bind("0.0.0.0").disableAuth().build())
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("non-loopback");
    assertThatThrownBy(() -> ForkyardServer.builder().token("short"))
        .isInstanceOf(InvalidRequestException.class);
  }

  // ---- bad input

  @Test
  void rejectsMalformedJson() throws Exception {
    assertError(send("POST", "/v1/sandboxes", "{\"image\": "), 400, "INVALID_REQUEST");
    assertError(send("POST", "/v1/sandboxes", "[1,2]"), 400, "INVALID_REQUEST");
    assertError(send("POST", "/v1/sandboxes", "{} {}"), 400, "INVALID_REQUEST");
    assertError(send("POST", "/v1/sandboxes", ""), 400, "INVALID_REQUEST");
  }

  @Test
  void rejectsUnknownFields() throws Exception {
    HttpResponse<String> r = send("POST", "/v1/sandboxes", "{\"imagee\": \"python\"}");
    assertError(r, 400, "INVALID_REQUEST");
    assertThat(json(r).get("message").asText()).contains("imagee");
  }

  @Test
  void rejectsWrongTypes() throws Exception {
    String id = sandbox();
    assertError(
        send("POST", "/v1/sandboxes/" + id + "/exec", "{\"argv\": \"ls\"}"),
        400,
        "INVALID_REQUEST");
    assertError(
        send("POST", "/v1/sandboxes/" + id + "/exec", "{\"argv\": [\"ls\"], \"timeoutMs\": \"5\"}"),
        400,
        "INVALID_REQUEST");
    assertError(send("POST", "/v1/sandboxes", "{\"timeoutSecs\": 1.5}"), 400, "INVALID_REQUEST");
    assertError(
        send("POST", "/v1/sandboxes", "{\"resources\": {\"cpus\": true}}"), 400, "INVALID_REQUEST");
    assertError(
        send("POST", "/v1/sandboxes/" + id + "/checkpoint", "{\"type\": 0}"),
        400,
        "INVALID_REQUEST");
    assertError(
        send("POST", "/v1/sandboxes/" + id + "/exec", "{\"argv\": []}"), 400, "INVALID_REQUEST");
    assertError(
        send("POST", "/v1/sandboxes/" + id + "/exec", "{\"argv\": [\"ls\"], \"stdin\": \"***\"}"),
        400,
        "INVALID_REQUEST");
  }

  @Test
  void keepsValidationMessagesOfApiTypes() throws Exception {
    HttpResponse<String> r =
        send(
            "POST",
            "/v1/sandboxes",
            "{\"resources\": {\"cpus\": 0, \"memoryMb\": 512, \"diskMb\": 1024}}");
    assertError(r, 400, "INVALID_REQUEST");
    assertThat(json(r).get("message").asText()).isEqualTo("cpus must be between 1 and 64, got 0");
  }

  @Test
  void rejectsNonJsonContentType() throws Exception {
    HttpRequest req =
        HttpRequest.newBuilder(URI.create(server.url() + "/v1/sandboxes"))
            .header("Authorization", "Bearer " + server.token())
            .header("Content-Type", "text/plain")
            .POST(BodyPublishers.ofString("{}"))
            .build();
    assertError(http.send(req, BodyHandlers.ofString()), 400, "INVALID_REQUEST");
  }

  @Test
  void imageRecipesReadHostFilesOnlyFromTheConfiguredDirectory(@TempDir Path tmp) throws Exception {
    String withFiles = "{\"name\": \"img\", \"files\": {\"/etc/x\": \"%s\"}}";
    // by default: no host files at all
    HttpResponse<String> r = send("POST", "/v1/images", withFiles.formatted("/etc/hostname"));
    assertError(r, 400, "INVALID_REQUEST");
    assertThat(json(r).get("message").asText()).contains("--image-files-dir");

    Path dir = Files.createDirectories(tmp.resolve("files"));
    Files.writeString(dir.resolve("ok.txt"), "fine");
    Files.createSymbolicLink(dir.resolve("escape"), Path.of("/etc/hostname"));
    ForkyardServer confined =
        ForkyardServer.builder().sandboxes(fake).port(0).imageFilesDir(dir).build().start();
    extra.add(confined);
    java.util.function.Function<String, HttpResponse<String>> post =
        src -> {
          try {
            return http.send(
                HttpRequest.newBuilder(URI.create(confined.url() + "/v1/images"))
                    .header("Content-Type", "application/json")
                    .header("Authorization", "Bearer " + confined.token())
                    .POST(BodyPublishers.ofString(withFiles.formatted(src)))
                    .build(),
                BodyHandlers.ofString());
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        };
    Files.createDirectories(dir.resolve("tree"));
    assertThat(post.apply("tree").statusCode()).isEqualTo(200);
    assertThat(post.apply("ok.txt").statusCode()).isEqualTo(200);
    assertThat(fake.recipes.get(fake.recipes.size() - 1).files())
        .containsEntry("/etc/x", dir.toRealPath().resolve("ok.txt").toString());
    int built = fake.recipes.size();
    for (String bad : List.of("/etc/hostname", "../../etc/hostname", "escape", "missing", ".")) {
      assertError(post.apply(bad), 400, "INVALID_REQUEST");
    }
    assertThat(fake.recipes).hasSize(built);
  }

  @Test
  void rejectsMalformedAndUnknownIds() throws Exception {
    assertError(send("GET", "/v1/sandboxes/nope", null), 400, "INVALID_REQUEST");
    assertError(send("GET", "/v1/sandboxes/sb-000000000000", null), 404, "NOT_FOUND");
    assertError(send("GET", "/v1/snapshots/snap-000000000000", null), 404, "NOT_FOUND");
    assertError(send("DELETE", "/v1/images/nope", null), 404, "NOT_FOUND");
    assertError(
        send("GET", "/v1/sandboxes/" + sandbox() + "/processes/proc-000000000000", null),
        404,
        "NOT_FOUND");
    assertError(
        send("GET", "/v1/sandboxes/" + sandbox() + "/processes/42", null), 400, "INVALID_REQUEST");
  }

  @Test
  void answersUnknownRoutesWithJson() throws Exception {
    assertError(send("GET", "/v2/nothing", null), 404, "NOT_FOUND");
    assertError(send("PATCH", "/v1/sandboxes", "{}"), 404, "NOT_FOUND");
  }

  @Test
  void rejectsPathTraversal() throws Exception {
    String id = sandbox();
    assertError(
        send("GET", "/v1/sandboxes/" + id + "/files?path=/tmp/../../etc/passwd", null),
        400,
        "INVALID_REQUEST");
    assertError(
        send("GET", "/v1/sandboxes/" + id + "/files?path=%2Ftmp%2F..%2Fetc", null),
        400,
        "INVALID_REQUEST");
    assertError(
        send("GET", "/v1/sandboxes/" + id + "/files?path=etc/passwd", null),
        400,
        "INVALID_REQUEST");
    assertError(send("GET", "/v1/sandboxes/" + id + "/files", null), 400, "INVALID_REQUEST");
    assertError(
        send("GET", "/v1/sandboxes/" + id + "/ls?path=/a&path=/b", null), 400, "INVALID_REQUEST");
  }

  @Test
  void refusesForksOfASnapshotNotReady() {
    Sandbox s = remote.create(SandboxSpec.defaults());
    SnapshotInfo snap = s.checkpoint();
    fake.forceSnapshotStatus(snap.id(), SnapshotStatus.IN_PROGRESS);
    assertThatThrownBy(() -> remote.fork(snap.id(), 2))
        .isInstanceOf(SnapshotNotReadyException.class);
  }

  // ---- limits

  @Test
  void refusesOversizedJsonBody() throws Exception {
    String big = "{\"name\": \"" + "x".repeat(8000) + "\"}";
    assertError(send("POST", "/v1/sandboxes", big), 413, "LIMIT_EXCEEDED");
  }

  @Test
  void refusesOversizedUpload() throws Exception {
    String id = sandbox();
    HttpRequest req =
        HttpRequest.newBuilder(
                URI.create(server.url() + "/v1/sandboxes/" + id + "/files?path=/tmp/big"))
            .header("Authorization", "Bearer " + server.token())
            .PUT(BodyPublishers.ofByteArray(new byte[200 * 1024]))
            .build();
    assertError(http.send(req, BodyHandlers.ofString()), 413, "LIMIT_EXCEEDED");
    // a chunked upload (no Content-Length) is cut off while reading
    HttpRequest chunked =
        HttpRequest.newBuilder(
                URI.create(server.url() + "/v1/sandboxes/" + id + "/files?path=/tmp/big"))
            .header("Authorization", "Bearer " + server.token())
            .PUT(
                BodyPublishers.ofInputStream(
                    () -> new java.io.ByteArrayInputStream(new byte[200 * 1024])))
            .build();
    HttpResponse<String> r = http.send(chunked, BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(413);
    // and the daemon is fine afterwards
    remote.writeFile(fake.info(io.forkyard.api.SandboxId.of(id)).id(), "/tmp/small", new byte[10]);
  }

  @Test
  void refusesTooManyOperationsInFlightFromOneClient() throws Exception {
    Sandbox s = remote.create(SandboxSpec.defaults());
    Path gate = Files.createTempFile("fy-server-gate", "");
    Files.delete(gate);
    Command wait =
        Command.shell("while [ ! -f " + gate + " ]; do sleep 0.05; done")
            .withTimeout(Duration.ofSeconds(20));
    try {
      CompletableFuture<?> a = CompletableFuture.runAsync(() -> remote.exec(s.id(), wait));
      CompletableFuture<?> b = CompletableFuture.runAsync(() -> remote.exec(s.id(), wait));
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(() -> assertThat(fake.list()).isNotEmpty());
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThatThrownBy(() -> remote.info(s.id()))
                      .isInstanceOf(io.forkyard.api.ForkyardException.class)
                      .hasMessageContaining("too many operations"));
      // another client is not affected
      try (RemoteSandboxes other = RemoteSandboxes.connect(server.url(), server.token())) {
        assertThat(other.info(s.id()).id()).isEqualTo(s.id());
      }
      Files.createFile(gate);
      a.get();
      b.get();
      assertThat(remote.info(s.id()).id()).isEqualTo(s.id());
    } finally {
      Files.deleteIfExists(gate);
    }
  }

  // ---- streaming and background processes

  @Test
  void streamsOutputWhileTheCommandRuns() throws Exception {
    Sandbox s = remote.create(SandboxSpec.defaults());
    Path gate = Files.createTempFile("fy-server-gate", "");
    Files.delete(gate);
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    // The command only finishes after the test saw its first line: proof the line was streamed.
    Command cmd =
        Command.shell("echo first; while [ ! -f " + gate + " ]; do sleep 0.05; done; echo second")
            .withTimeout(Duration.ofSeconds(20));
    try {
      var result =
          s.run(
              cmd,
              new OutputSink() {
                @Override
                public synchronized void stdout(byte[] chunk, int offset, int length) {
                  seen.write(chunk, offset, length);
                  if (seen.toString(StandardCharsets.UTF_8).contains("first")) {
                    try {
                      Files.createFile(gate);
                    } catch (IOException ignored) {
                      // already there
                    }
                  }
                }
              });
      assertThat(result.timedOut()).isFalse();
      assertThat(result.stdout()).isEqualTo("first\nsecond\n");
      assertThat(seen.toString(StandardCharsets.UTF_8)).isEqualTo("first\nsecond\n");
    } finally {
      Files.deleteIfExists(gate);
    }
  }

  @Test
  void streamedExecOnUnknownSandboxIsA404() {
    assertThatThrownBy(
            () ->
                remote.exec(
                    io.forkyard.api.SandboxId.random(), Command.of("true"), new OutputSink() {}))
        .isInstanceOf(NotFoundException.class);
  }

  @Test
  void runsFollowsAndSignalsBackgroundProcesses() {
    Sandbox s = remote.create(SandboxSpec.defaults());
    ProcessInfo p = remote.spawn(s.id(), Command.shell("echo started; exec sleep 60"));
    assertThat(p.state()).isEqualTo(ProcessInfo.State.RUNNING);
    assertThat(remote.processes(s.id())).extracting(ProcessInfo::id).contains(p.id());
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> remote.output(s.id(), p.id()).stdout().contains("started"));
    remote.signal(s.id(), p.id(), 15);
    await().atMost(Duration.ofSeconds(10)).until(() -> !remote.process(s.id(), p.id()).running());
    ProcessInfo end = remote.process(s.id(), p.id());
    assertThat(end.state()).isEqualTo(ProcessInfo.State.EXITED);
    assertThat(end.exitCode()).isEqualTo(-15);
    assertThat(end.endedAt()).isPresent();
    assertThatThrownBy(() -> remote.kill(s.id(), p.id())).isInstanceOf(InvalidStateException.class);
  }

  @Test
  void followDeliversAllOutputAndTheExit() {
    Sandbox s = remote.create(SandboxSpec.defaults());
    ProcessInfo p =
        remote.spawn(
            s.id(), Command.shell("echo one; sleep 0.3; echo two >&2; echo three; exit 4"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    ProcessInfo end =
        remote.follow(
            s.id(),
            p.id(),
            new OutputSink() {
              @Override
              public void stdout(byte[] chunk, int offset, int length) {
                out.write(chunk, offset, length);
              }

              @Override
              public void stderr(byte[] chunk, int offset, int length) {
                err.write(chunk, offset, length);
              }
            });
    assertThat(end.state()).isEqualTo(ProcessInfo.State.EXITED);
    assertThat(end.exitCode()).isEqualTo(4);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("one\nthree\n");
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("two\n");
  }

  @Test
  void killsABackgroundProcess() {
    Sandbox s = remote.create(SandboxSpec.defaults());
    ProcessInfo p = remote.spawn(s.id(), Command.of("sleep", "60"));
    remote.kill(s.id(), p.id());
    await().atMost(Duration.ofSeconds(10)).until(() -> !remote.process(s.id(), p.id()).running());
    assertThat(remote.process(s.id(), p.id()).exitCode()).isEqualTo(-9);
  }

  @Test
  void refusesProcessesInASandboxNotRunning() {
    Sandbox s = remote.create(SandboxSpec.defaults());
    s.suspend();
    assertThatThrownBy(() -> remote.spawn(s.id(), Command.of("true")))
        .isInstanceOf(InvalidStateException.class);
    s.resume();
    assertThat(remote.spawn(s.id(), Command.of("true")).id()).startsWith("proc-");
  }

  // ---- metrics and lifecycle

  @Test
  void exposesPrometheusMetrics() throws Exception {
    Sandbox s = remote.create(SandboxSpec.defaults());
    s.run("true");
    SnapshotInfo snap = s.checkpoint();
    remote.fork(snap.id(), 2);
    assertThatThrownBy(() -> remote.info(io.forkyard.api.SandboxId.random()))
        .isInstanceOf(NotFoundException.class);
    HttpResponse<String> r = send("GET", "/metrics", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body())
        .contains("forkyard_sandboxes{state=\"RUNNING\"} 3.0")
        .contains("forkyard_forks_total 2.0")
        .contains("forkyard_commands_total{outcome=\"ok\"} 1.0")
        .contains("forkyard_errors_total{code=\"NOT_FOUND\"} 1.0")
        .contains("forkyard_checkpoint_seconds_bucket")
        .contains("forkyard_fork_seconds_count 2");
  }

  @Test
  void stopEndsFollowStreamsInsteadOfWaitingTheGracePeriodForThem() throws Exception {
    ForkyardServer patient =
        ForkyardServer.builder()
            .sandboxes(fake)
            .port(0)
            .shutdownGrace(Duration.ofMinutes(10))
            .build()
            .start();
    extra.add(patient);
    try (RemoteSandboxes client = RemoteSandboxes.connect(patient.url(), patient.token())) {
      Sandbox s = client.create(SandboxSpec.defaults());
      ProcessInfo p = client.spawn(s.id(), Command.of("sleep", "60"));
      CompletableFuture<ProcessInfo> follow =
          CompletableFuture.supplyAsync(() -> client.follow(s.id(), p.id(), OutputSink.DISCARD));
      await().atMost(Duration.ofSeconds(10)).until(() -> patient.inFlight() == 1);
      CompletableFuture<Void> stop = CompletableFuture.runAsync(patient::stop);
      assertThatThrownBy(() -> follow.get(60, TimeUnit.SECONDS))
          .cause()
          .isInstanceOfSatisfying(
              ForkyardException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.RUNTIME_UNAVAILABLE))
          .hasMessageContaining("shutting down");
      stop.get(60, TimeUnit.SECONDS); // well inside the 10 min grace
      assertThat(patient.running()).isFalse();
    }
  }

  @Test
  void refusesToStartOnAPortInUse() {
    ForkyardServer.Builder second = ForkyardServer.builder().sandboxes(fake).port(server.port());
    assertThatThrownBy(() -> extra.add(second.build().start()))
        .isInstanceOfSatisfying(
            io.forkyard.api.ForkyardException.class,
            e -> assertThat(e.code()).isEqualTo(io.forkyard.api.ErrorCode.RUNTIME_UNAVAILABLE))
        .hasMessageContaining("cannot listen on 127.0.0.1:" + server.port());
    assertThat(remote.list()).isEmpty(); // the first one is undisturbed
  }

  @Test
  void stopRefusesNewWorkAndClosesThePort() {
    remote.list();
    server.stop();
    assertThat(server.running()).isFalse();
    assertThatThrownBy(remote::list)
        .isInstanceOf(io.forkyard.api.RuntimeUnavailableException.class);
    server.stop(); // idempotent
  }
}
