package io.forkyard.client;

import com.fasterxml.jackson.core.type.TypeReference;
import io.forkyard.api.CheckpointOptions;
import io.forkyard.api.Command;
import io.forkyard.api.CommandResult;
import io.forkyard.api.ErrorCode;
import io.forkyard.api.FileEntry;
import io.forkyard.api.ForkResult;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.ImageInfo;
import io.forkyard.api.ImageRecipe;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.OutputSink;
import io.forkyard.api.ProgressListener;
import io.forkyard.api.RuntimeUnavailableException;
import io.forkyard.api.Sandbox;
import io.forkyard.api.SandboxId;
import io.forkyard.api.SandboxInfo;
import io.forkyard.api.SandboxSpec;
import io.forkyard.api.Sandboxes;
import io.forkyard.api.SnapshotId;
import io.forkyard.api.SnapshotInfo;
import io.forkyard.client.WireFormat.CommandBody;
import io.forkyard.client.WireFormat.ErrorBody;
import io.forkyard.client.WireFormat.ForkBody;
import io.forkyard.client.WireFormat.ProcessOutput;
import io.forkyard.client.WireFormat.SignalBody;
import io.forkyard.client.WireFormat.SpecBody;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The SDK over HTTP: every {@link Sandboxes} call becomes one request to a {@code forkyard serve}
 * daemon and behaves like the embedded service, errors included (the daemon's {@code {code,
 * message}} body is rebuilt with {@link ForkyardException#of}). Background processes, which only
 * the daemon offers, are the extra methods {@link #spawn}, {@link #processes}, {@link #follow},
 * {@link #signal} and {@link #kill}.
 *
 * <p>Thread-safe; one instance may be shared by many threads. {@link #close()} releases the HTTP
 * client only; sandboxes keep running in the daemon until terminated or their TTL.
 */
public final class RemoteSandboxes implements Sandboxes {
  /** Environment variable holding the daemon's URL, e.g. {@code http://127.0.0.1:7420}. */
  public static final String URL_ENV = "FORKYARD_URL";

  /** Environment variable holding the bearer token; else the daemon's token file is read. */
  public static final String TOKEN_ENV = "FORKYARD_TOKEN";

  private static final TypeReference<List<SandboxInfo>> SANDBOX_LIST = new TypeReference<>() {};
  private static final TypeReference<List<SnapshotInfo>> SNAPSHOT_LIST = new TypeReference<>() {};
  private static final TypeReference<List<ImageInfo>> IMAGE_LIST = new TypeReference<>() {};
  private static final TypeReference<List<FileEntry>> FILE_LIST = new TypeReference<>() {};
  private static final TypeReference<List<ForkResult>> FORK_LIST = new TypeReference<>() {};
  private static final TypeReference<List<ProcessInfo>> PROCESS_LIST = new TypeReference<>() {};

  private final URI base;
  private final String token;
  private final String clientId;
  private final ExecutorService executor;
  private final HttpClient http;

  private RemoteSandboxes(URI base, String token) {
    String s = base.toString();
    this.base = URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
    this.token = token;
    byte[] id = new byte[6];
    ThreadLocalRandom.current().nextBytes(id);
    this.clientId = "java-" + HexFormat.of().formatHex(id);
    this.executor = Executors.newVirtualThreadPerTaskExecutor();
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(10))
            .executor(executor)
            .version(HttpClient.Version.HTTP_1_1)
            .build();
  }

  /**
   * A client of the daemon at {@code base} (e.g. {@code http://127.0.0.1:7420}). Nothing is sent
   * until the first call; use {@link #health()} to check the daemon is there.
   *
   * @param token the daemon's bearer token; empty only for a daemon started without auth
   */
  public static RemoteSandboxes connect(URI base, String token) {
    Objects.requireNonNull(base, "base");
    Objects.requireNonNull(token, "token");
    if (!"http".equals(base.getScheme()) && !"https".equals(base.getScheme())) {
      throw new InvalidRequestException(
          "daemon URL must be http:// or https://, got '" + base + "'");
    }
    return new RemoteSandboxes(base, token.strip());
  }

  /**
   * The token a local daemon wrote on first start: {@code <stateDir>/daemon/token}. Empty when the
   * file does not exist or cannot be read by this user.
   */
  public static Optional<String> localToken(Path stateDir) {
    Path file = stateDir.resolve("daemon").resolve("token");
    try {
      return Optional.of(Files.readString(file, StandardCharsets.UTF_8).strip())
          .filter(t -> !t.isEmpty());
    } catch (IOException | SecurityException e) {
      return Optional.empty();
    }
  }

  public URI baseUri() {
    return base;
  }

  /** Throws {@link RuntimeUnavailableException} when the daemon cannot be reached. */
  public void health() {
    send(request("/v1/health").GET(), BodyHandlers.ofByteArray());
  }

  // ---- sandboxes

  @Override
  public Sandbox create(SandboxSpec spec) {
    SandboxInfo info = postJson("/v1/sandboxes", SpecBody.of(spec), SandboxInfo.class);
    return new Sandbox(this, info.id());
  }

  @Override
  public List<ForkResult> fork(SandboxSpec spec, int count) {
    SnapshotId snapshot =
        spec.snapshot()
            .orElseThrow(() -> new InvalidRequestException("fork needs a snapshot id in the spec"));
    if (spec.image().isPresent()) {
      throw new InvalidRequestException("give either an image or a snapshot id, not both");
    }
    byte[] body =
        call(
            "POST",
            "/v1/snapshots/" + snapshot + "/fork",
            WireFormat.write(ForkBody.of(spec, count)));
    return WireFormat.read(body, FORK_LIST);
  }

  @Override
  public SandboxInfo info(SandboxId id) {
    return getJson("/v1/sandboxes/" + id, SandboxInfo.class);
  }

  @Override
  public List<SandboxInfo> list() {
    return WireFormat.read(call("GET", "/v1/sandboxes", null), SANDBOX_LIST);
  }

  @Override
  public void terminate(SandboxId id) {
    call("DELETE", "/v1/sandboxes/" + id, null);
  }

  // ---- commands and files

  @Override
  public CommandResult exec(SandboxId id, Command command) {
    return postJson("/v1/sandboxes/" + id + "/exec", CommandBody.of(command), CommandResult.class);
  }

  @Override
  public CommandResult exec(SandboxId id, Command command, OutputSink sink) {
    if (sink == OutputSink.DISCARD) {
      return exec(id, command);
    }
    HttpRequest req =
        request("/v1/sandboxes/" + id + "/exec/stream")
            .header("Content-Type", WireFormat.JSON)
            .header("Accept", WireFormat.EVENT_STREAM)
            .POST(BodyPublishers.ofByteArray(WireFormat.write(CommandBody.of(command))))
            .build();
    HttpResponse<InputStream> resp = send(req, BodyHandlers.ofInputStream());
    CommandResult[] result = new CommandResult[1];
    readEvents(
        resp.body(),
        (event, data) -> {
          switch (event) {
            case "stdout" -> {
              byte[] b = Base64.getDecoder().decode(data);
              sink.stdout(b, 0, b.length);
            }
            case "stderr" -> {
              byte[] b = Base64.getDecoder().decode(data);
              sink.stderr(b, 0, b.length);
            }
            case "result" -> result[0] = WireFormat.read(utf8(data), CommandResult.class);
            case "error" -> throw WireFormat.read(utf8(data), ErrorBody.class).toException();
            default -> {} // unknown events are for newer clients
          }
          return result[0] == null;
        });
    if (result[0] == null) {
      throw new ForkyardException(
          ErrorCode.INTERNAL,
          "the daemon closed the output stream of " + id + " before the result");
    }
    return result[0];
  }

  @Override
  public void writeFile(SandboxId id, String path, byte[] content) {
    HttpRequest req =
        request("/v1/sandboxes/" + id + "/files?path=" + enc(path))
            .header("Content-Type", "application/octet-stream")
            .PUT(BodyPublishers.ofByteArray(content))
            .build();
    send(req, BodyHandlers.ofByteArray());
  }

  @Override
  public byte[] readFile(SandboxId id, String path) {
    return call("GET", "/v1/sandboxes/" + id + "/files?path=" + enc(path), null);
  }

  @Override
  public List<FileEntry> listDirectory(SandboxId id, String path) {
    return WireFormat.read(
        call("GET", "/v1/sandboxes/" + id + "/ls?path=" + enc(path), null), FILE_LIST);
  }

  @Override
  public void deleteFile(SandboxId id, String path) {
    call("DELETE", "/v1/sandboxes/" + id + "/files?path=" + enc(path), null);
  }

  // ---- snapshots

  @Override
  public SnapshotInfo checkpoint(SandboxId id, CheckpointOptions options) {
    return postJson("/v1/sandboxes/" + id + "/checkpoint", options, SnapshotInfo.class);
  }

  @Override
  public SnapshotInfo snapshot(SnapshotId id) {
    return getJson("/v1/snapshots/" + id, SnapshotInfo.class);
  }

  @Override
  public List<SnapshotInfo> snapshots() {
    return WireFormat.read(call("GET", "/v1/snapshots", null), SNAPSHOT_LIST);
  }

  @Override
  public void deleteSnapshot(SnapshotId id) {
    call("DELETE", "/v1/snapshots/" + id, null);
  }

  @Override
  public void suspend(SandboxId id) {
    call("POST", "/v1/sandboxes/" + id + "/suspend", new byte[0]);
  }

  @Override
  public void resume(SandboxId id) {
    call("POST", "/v1/sandboxes/" + id + "/resume", new byte[0]);
  }

  // ---- images

  @Override
  public List<ImageInfo> images() {
    return WireFormat.read(call("GET", "/v1/images", null), IMAGE_LIST);
  }

  /** Progress is reported by the daemon's log, not to {@code progress}: it only hears the end. */
  @Override
  public ImageInfo buildImage(ImageRecipe recipe, ProgressListener progress) {
    progress.progress("building image " + recipe.name() + " in the daemon", 0, 1);
    ImageInfo info = postJson("/v1/images", recipe, ImageInfo.class);
    progress.progress("built image " + recipe.name(), 1, 1);
    return info;
  }

  @Override
  public void deleteImage(String name) {
    call("DELETE", "/v1/images/" + enc(name), null);
  }

  // ---- background processes (daemon only)

  /** Starts {@code command} in the background; returns at once with its process id. */
  public ProcessInfo spawn(SandboxId id, Command command) {
    return postJson(
        "/v1/sandboxes/" + id + "/processes", CommandBody.of(command), ProcessInfo.class);
  }

  /** Background processes of one sandbox, running and recently ended. */
  public List<ProcessInfo> processes(SandboxId id) {
    return WireFormat.read(call("GET", "/v1/sandboxes/" + id + "/processes", null), PROCESS_LIST);
  }

  public ProcessInfo process(SandboxId id, String processId) {
    return getJson(processPath(id, processId), ProcessInfo.class);
  }

  /** The output the daemon still holds for a process (its most recent bytes). */
  public ProcessOutput output(SandboxId id, String processId) {
    return getJson(processPath(id, processId) + "/output", ProcessOutput.class);
  }

  /**
   * Streams a process's output to {@code sink} (from the oldest byte still held) until it ends,
   * then returns its final state.
   */
  public ProcessInfo follow(SandboxId id, String processId, OutputSink sink) {
    HttpRequest req =
        request(processPath(id, processId) + "/output/stream")
            .header("Accept", WireFormat.EVENT_STREAM)
            .GET()
            .build();
    HttpResponse<InputStream> resp = send(req, BodyHandlers.ofInputStream());
    ProcessInfo[] end = new ProcessInfo[1];
    readEvents(
        resp.body(),
        (event, data) -> {
          switch (event) {
            case "stdout" -> {
              byte[] b = Base64.getDecoder().decode(data);
              sink.stdout(b, 0, b.length);
            }
            case "stderr" -> {
              byte[] b = Base64.getDecoder().decode(data);
              sink.stderr(b, 0, b.length);
            }
            case "exit" -> end[0] = WireFormat.read(utf8(data), ProcessInfo.class);
            case "error" -> throw WireFormat.read(utf8(data), ErrorBody.class).toException();
            default -> {}
          }
          return end[0] == null;
        });
    return end[0] != null ? end[0] : process(id, processId);
  }

  /** Sends {@code signal} (e.g. 15 for SIGTERM) to a running background process. */
  public void signal(SandboxId id, String processId, int signal) {
    call("POST", processPath(id, processId) + "/signal", WireFormat.write(new SignalBody(signal)));
  }

  /** SIGKILL. */
  public void kill(SandboxId id, String processId) {
    call("DELETE", processPath(id, processId), null);
  }

  private static String processPath(SandboxId id, String processId) {
    return "/v1/sandboxes/" + id + "/processes/" + ProcessInfo.requireId(processId);
  }

  @Override
  public void close() {
    http.close();
    executor.close();
  }

  @Override
  public String toString() {
    return "RemoteSandboxes[" + base + "]";
  }

  // ---- plumbing

  private HttpRequest.Builder request(String pathAndQuery) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + pathAndQuery))
            .header(WireFormat.CLIENT_HEADER, clientId);
    if (!token.isEmpty()) {
      b.header("Authorization", "Bearer " + token);
    }
    return b;
  }

  private <T> T getJson(String path, Class<T> type) {
    return WireFormat.read(call("GET", path, null), type);
  }

  private <T> T postJson(String path, Object body, Class<T> type) {
    return WireFormat.read(call("POST", path, WireFormat.write(body)), type);
  }

  private byte[] call(String method, String path, byte[] jsonBody) {
    HttpRequest.Builder b = request(path).header("Accept", WireFormat.JSON);
    if (jsonBody == null) {
      b.method(method, BodyPublishers.noBody());
    } else {
      b.header("Content-Type", WireFormat.JSON)
          .method(method, BodyPublishers.ofByteArray(jsonBody));
    }
    return send(b.build(), BodyHandlers.ofByteArray()).body();
  }

  private <T> HttpResponse<T> send(HttpRequest.Builder b, HttpResponse.BodyHandler<T> handler) {
    return send(b.build(), handler);
  }

  private <T> HttpResponse<T> send(HttpRequest req, HttpResponse.BodyHandler<T> handler) {
    HttpResponse<T> resp;
    try {
      resp = http.send(req, handler);
    } catch (ConnectException | HttpConnectTimeoutException e) {
      throw new RuntimeUnavailableException(
          "cannot reach the forkyard daemon at "
              + base
              + " ("
              + e
              + "); start it with 'forkyard serve'",
          e);
    } catch (IOException e) {
      throw new RuntimeUnavailableException(
          "lost the connection to the forkyard daemon at " + base + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ForkyardException(ErrorCode.INTERNAL, "interrupted while waiting for " + base, e);
    }
    if (resp.statusCode() >= 400) {
      throw errorOf(resp);
    }
    return resp;
  }

  private static ForkyardException errorOf(HttpResponse<?> resp) {
    byte[] bytes;
    Object body = resp.body();
    try {
      bytes =
          body instanceof InputStream in
              ? readLimited(in)
              : body instanceof byte[] b ? b : new byte[0];
    } catch (IOException e) {
      bytes = new byte[0];
    }
    try {
      return WireFormat.mapper().readValue(bytes, ErrorBody.class).toException();
    } catch (IOException | RuntimeException e) {
      String text = new String(bytes, StandardCharsets.UTF_8).strip();
      return new ForkyardException(
          fallbackCode(resp.statusCode()),
          "the daemon answered HTTP " + resp.statusCode() + (text.isEmpty() ? "" : ": " + text));
    }
  }

  private static ErrorCode fallbackCode(int status) {
    for (ErrorCode c : ErrorCode.values()) {
      if (c.httpStatus() == status) {
        return c;
      }
    }
    return ErrorCode.INTERNAL;
  }

  private static byte[] readLimited(InputStream in) throws IOException {
    try (in) {
      return in.readNBytes(64 * 1024);
    }
  }

  /** Called per event; returns false to stop reading. */
  private interface EventHandler {
    boolean onEvent(String event, String data);
  }

  private static void readEvents(InputStream body, EventHandler handler) {
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
      String event = "message";
      StringBuilder data = new StringBuilder();
      String line;
      while ((line = r.readLine()) != null) {
        if (line.isEmpty()) {
          if (!data.isEmpty() && !handler.onEvent(event, data.toString())) {
            return;
          }
          event = "message";
          data.setLength(0);
        } else if (line.startsWith("event:")) {
          event = line.substring(6).strip();
        } else if (line.startsWith("data:")) {
          if (!data.isEmpty()) {
            data.append('\n');
          }
          data.append(line.substring(5).stripLeading());
        }
      }
    } catch (IOException e) {
      throw new RuntimeUnavailableException(
          "lost the event stream from the forkyard daemon: " + e.getMessage(), e);
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
