package io.forkyard.server;

import io.forkyard.api.CheckpointOptions;
import io.forkyard.api.Command;
import io.forkyard.api.CommandResult;
import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkResult;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.ImageRecipe;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.InvalidStateException;
import io.forkyard.api.NotFoundException;
import io.forkyard.api.OutputSink;
import io.forkyard.api.ProgressListener;
import io.forkyard.api.Sandbox;
import io.forkyard.api.SandboxId;
import io.forkyard.api.SandboxSpec;
import io.forkyard.api.SandboxState;
import io.forkyard.api.Sandboxes;
import io.forkyard.api.SnapshotId;
import io.forkyard.api.SnapshotInfo;
import io.forkyard.client.ProcessInfo;
import io.forkyard.client.WireFormat;
import io.forkyard.client.WireFormat.CommandBody;
import io.forkyard.client.WireFormat.ErrorBody;
import io.forkyard.client.WireFormat.ForkBody;
import io.forkyard.client.WireFormat.SignalBody;
import io.forkyard.client.WireFormat.SpecBody;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every REST route of the daemon. A handler parses the request into api types, calls the one {@link
 * Sandboxes} method it stands for, and writes the answer; errors map once, in {@link #fail}, to the
 * code's HTTP status with a {@code {code, message}} body.
 */
final class RestApi {
  private static final Logger LOG = LoggerFactory.getLogger(RestApi.class);
  static final String HEALTH = "/v1/health";

  /** One registered route; {@code authenticated=false} only for health. */
  record Route(String method, String path, boolean authenticated, boolean limited) {}

  private final Sandboxes sandboxes;
  private final ProcessManager processes;
  private final DaemonMetrics metrics;
  private final TokenAuth auth;
  private final ClientLimiter limiter;
  private final long maxJsonBytes;
  private final long maxFileBytes;
  private final Optional<Path> imageFilesDir;
  private final byte[] openApi;
  private final List<Route> routes = new ArrayList<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private volatile boolean draining;

  RestApi(
      Sandboxes sandboxes,
      ProcessManager processes,
      DaemonMetrics metrics,
      TokenAuth auth,
      ClientLimiter limiter,
      long maxJsonBytes,
      long maxFileBytes,
      Optional<Path> imageFilesDir) {
    this.sandboxes = sandboxes;
    this.processes = processes;
    this.metrics = metrics;
    this.auth = auth;
    this.limiter = limiter;
    this.maxJsonBytes = maxJsonBytes;
    this.maxFileBytes = maxFileBytes;
    this.imageFilesDir = imageFilesDir;
    this.openApi = loadOpenApi();
  }

  List<Route> routes() {
    return List.copyOf(routes);
  }

  int inFlight() {
    return inFlight.get();
  }

  /** From now on every request but health is answered 503: the daemon is stopping. */
  void drain() {
    draining = true;
  }

  void register(HttpRouting.Builder r) {
    route(r, "GET", HEALTH, false, false, this::health);
    route(r, "GET", "/metrics", true, false, this::metrics);
    route(r, "GET", "/openapi.yaml", true, false, this::openApi);

    route(r, "POST", "/v1/sandboxes", this::create);
    route(r, "GET", "/v1/sandboxes", (req, res) -> json(res, 200, sandboxes.list()));
    route(
        r,
        "GET",
        "/v1/sandboxes/{id}",
        (req, res) -> json(res, 200, sandboxes.info(sandboxId(req))));
    route(r, "DELETE", "/v1/sandboxes/{id}", this::terminate);
    route(r, "POST", "/v1/sandboxes/{id}/exec", this::exec);
    route(r, "POST", "/v1/sandboxes/{id}/exec/stream", this::execStream);
    route(r, "GET", "/v1/sandboxes/{id}/files", this::readFile);
    route(r, "PUT", "/v1/sandboxes/{id}/files", this::writeFile);
    route(r, "DELETE", "/v1/sandboxes/{id}/files", this::deleteFile);
    route(
        r,
        "GET",
        "/v1/sandboxes/{id}/ls",
        (req, res) -> json(res, 200, sandboxes.listDirectory(sandboxId(req), path(req))));
    route(r, "POST", "/v1/sandboxes/{id}/checkpoint", this::checkpoint);
    route(r, "POST", "/v1/sandboxes/{id}/suspend", this::suspend);
    route(r, "POST", "/v1/sandboxes/{id}/resume", this::resume);

    route(r, "POST", "/v1/sandboxes/{id}/processes", this::spawn);
    route(
        r,
        "GET",
        "/v1/sandboxes/{id}/processes",
        (req, res) -> json(res, 200, processes.list(sandboxId(req))));
    route(
        r,
        "GET",
        "/v1/sandboxes/{id}/processes/{pid}",
        (req, res) -> json(res, 200, processes.info(sandboxId(req), pid(req))));
    route(r, "DELETE", "/v1/sandboxes/{id}/processes/{pid}", this::kill);
    route(
        r,
        "GET",
        "/v1/sandboxes/{id}/processes/{pid}/output",
        (req, res) -> json(res, 200, processes.output(sandboxId(req), pid(req))));
    route(r, "GET", "/v1/sandboxes/{id}/processes/{pid}/output/stream", this::follow);
    route(r, "POST", "/v1/sandboxes/{id}/processes/{pid}/signal", this::signal);

    route(r, "GET", "/v1/snapshots", (req, res) -> json(res, 200, sandboxes.snapshots()));
    route(
        r,
        "GET",
        "/v1/snapshots/{id}",
        (req, res) -> json(res, 200, sandboxes.snapshot(snapshotId(req))));
    route(r, "DELETE", "/v1/snapshots/{id}", this::deleteSnapshot);
    route(r, "POST", "/v1/snapshots/{id}/fork", this::fork);

    route(r, "GET", "/v1/images", (req, res) -> json(res, 200, sandboxes.images()));
    route(r, "POST", "/v1/images", this::buildImage);
    route(r, "DELETE", "/v1/images/{name}", this::deleteImage);

    // Anything else: a JSON 404 (after auth, so probing paths needs the token too).
    r.any(
        guard(
            new Route("ANY", "unmatched", true, false),
            (req, res) -> {
              throw new NotFoundException(
                  "no route "
                      + req.prologue().method().text()
                      + " "
                      + req.path().path()
                      + "; see /openapi.yaml");
            }));
  }

  private void route(HttpRouting.Builder r, String method, String path, Handler h) {
    route(r, method, path, true, true, h);
  }

  private void route(
      HttpRouting.Builder r,
      String method,
      String path,
      boolean authenticated,
      boolean limited,
      Handler h) {
    Route route = new Route(method, path, authenticated, limited);
    routes.add(route);
    r.route(Method.create(method), path, guard(route, h));
  }

  /** Auth, draining, per-client limit, error mapping, metrics and one log line per request. */
  private Handler guard(Route route, Handler h) {
    return (req, res) -> {
      long start = System.nanoTime();
      String client = clientKey(req);
      boolean acquired = false;
      inFlight.incrementAndGet();
      try {
        if (draining && !route.path().equals(HEALTH)) {
          throw new ForkyardException(
              ErrorCode.RUNTIME_UNAVAILABLE,
              "the daemon is shutting down; retry against its successor");
        }
        if (route.authenticated()
            && !auth.accepts(req.headers().first(HeaderNames.AUTHORIZATION).orElse(null))) {
          res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"forkyard\"");
          throw new ForkyardException(
              ErrorCode.UNAUTHORIZED,
              "missing or wrong bearer token; send 'Authorization: Bearer <token>' with the token from"
                  + " <stateDir>/daemon/token or FORKYARD_TOKEN");
        }
        if (route.limited()) {
          if (!limiter.tryAcquire(client)) {
            res.header(HeaderNames.RETRY_AFTER, "1");
            throw new ForkyardException(
                ErrorCode.TOO_MANY_REQUESTS,
                "too many operations in flight (limit "
                    + limiter.perClient()
                    + " per client, "
                    + limiter.total()
                    + " in all); retry when some have finished");
          }
          acquired = true;
        }
        h.handle(req, res);
      } catch (Throwable e) {
        fail(req, res, e);
      } finally {
        if (acquired) {
          limiter.release(client);
        }
        inFlight.decrementAndGet();
        int status = res.status().code();
        long nanos = System.nanoTime() - start;
        metrics.request(req.prologue().method().text(), route.path(), status, nanos);
        if (!route.path().equals(HEALTH) && !route.path().equals("/metrics")) {
          LOG.info(
              "request method={} route={} path={} status={} ms={} client={}",
              req.prologue().method().text(),
              route.path(),
              req.path().path(),
              status,
              nanos / 1_000_000,
              client);
        }
      }
    };
  }

  void fail(ServerRequest req, ServerResponse res, Throwable e) {
    ForkyardException fe = toForkyard(e);
    metrics.error(fe.code());
    if (fe.code().httpStatus() >= 500) {
      LOG.warn(
          "request failed path={} code={} message={}",
          req.path().path(),
          fe.code(),
          fe.getMessage(),
          e);
    }
    if (res.isSent()) {
      return;
    }
    json(res, fe.code().httpStatus(), ErrorBody.of(fe));
  }

  static ForkyardException toForkyard(Throwable e) {
    if (e instanceof ForkyardException fe) {
      return fe;
    }
    if (e instanceof UncheckedIOException || e instanceof IOException) {
      return new ForkyardException(
          ErrorCode.INTERNAL, "I/O failure in the daemon: " + e.getMessage(), e);
    }
    return new ForkyardException(ErrorCode.INTERNAL, "unexpected failure in the daemon: " + e, e);
  }

  // ---- handlers

  private void health(ServerRequest req, ServerResponse res) {
    json(res, draining ? 503 : 200, Map.of("status", draining ? "STOPPING" : "UP"));
  }

  private void metrics(ServerRequest req, ServerResponse res) {
    String text = metrics.scrape(sandboxes.list());
    res.status(200);
    res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
    res.send(text.getBytes(StandardCharsets.UTF_8));
  }

  private void openApi(ServerRequest req, ServerResponse res) {
    res.status(200);
    res.header(HeaderNames.CONTENT_TYPE, "application/yaml");
    res.send(openApi);
  }

  private void create(ServerRequest req, ServerResponse res) {
    SandboxSpec spec = WireFormat.read(jsonBody(req), SpecBody.class).toSpec();
    long start = System.nanoTime();
    Sandbox sandbox = sandboxes.create(spec);
    if (spec.snapshot().isPresent()) {
      metrics.forked(java.time.Duration.ofNanos(System.nanoTime() - start));
    }
    json(res, 201, sandboxes.info(sandbox.id()));
  }

  private void terminate(ServerRequest req, ServerResponse res) {
    SandboxId id = sandboxId(req);
    sandboxes.terminate(id);
    processes.forget(id);
    res.status(204).send();
  }

  private void exec(ServerRequest req, ServerResponse res) {
    SandboxId id = sandboxId(req);
    Command command = WireFormat.read(jsonBody(req), CommandBody.class).toCommand();
    CommandResult result;
    try {
      result = sandboxes.exec(id, command);
    } catch (RuntimeException e) {
      metrics.commandFailed();
      throw e;
    }
    metrics.command(result);
    json(res, 200, result);
  }

  /**
   * Same as exec, but output is sent as produced. Errors found before the command starts (bad body,
   * unknown or non-RUNNING sandbox) are plain 4xx answers; later ones are an error event.
   */
  private void execStream(ServerRequest req, ServerResponse res) throws IOException {
    SandboxId id = sandboxId(req);
    Command command = WireFormat.read(jsonBody(req), CommandBody.class).toCommand();
    requireRunning(id);
    res.status(200);
    res.header(HeaderNames.CONTENT_TYPE, WireFormat.EVENT_STREAM);
    res.header(HeaderNames.CACHE_CONTROL, "no-cache");
    try (OutputStream out = res.outputStream()) {
      EventStream events = new EventStream(out);
      events.comment("exec " + id);
      try {
        CommandResult result =
            sandboxes.exec(
                id,
                command,
                new OutputSink() {
                  @Override
                  public void stdout(byte[] chunk, int offset, int length) {
                    events.chunk("stdout", chunk, offset, length);
                  }

                  @Override
                  public void stderr(byte[] chunk, int offset, int length) {
                    events.chunk("stderr", chunk, offset, length);
                  }
                });
        metrics.command(result);
        events.json("result", WireFormat.write(result));
      } catch (RuntimeException e) {
        ForkyardException fe = toForkyard(e);
        metrics.commandFailed();
        metrics.error(fe.code());
        events.json("error", WireFormat.write(ErrorBody.of(fe)));
      }
    }
  }

  private void requireRunning(SandboxId id) {
    SandboxState state = sandboxes.info(id).state();
    if (state != SandboxState.RUNNING) {
      throw new InvalidStateException(
          "cannot run a command in " + id + ": it is " + state + ", not RUNNING");
    }
  }

  private void readFile(ServerRequest req, ServerResponse res) {
    byte[] content = sandboxes.readFile(sandboxId(req), path(req));
    res.status(200);
    res.header(HeaderNames.CONTENT_TYPE, "application/octet-stream");
    res.send(content);
  }

  private void writeFile(ServerRequest req, ServerResponse res) {
    SandboxId id = sandboxId(req);
    String path = path(req);
    byte[] content = body(req, maxFileBytes, "file");
    sandboxes.writeFile(id, path, content);
    res.status(204).send();
  }

  private void deleteFile(ServerRequest req, ServerResponse res) {
    sandboxes.deleteFile(sandboxId(req), path(req));
    res.status(204).send();
  }

  private void checkpoint(ServerRequest req, ServerResponse res) {
    SandboxId id = sandboxId(req);
    byte[] body = jsonBody(req);
    CheckpointOptions options =
        body.length == 0
            ? CheckpointOptions.MEMORY
            : WireFormat.read(body, CheckpointOptions.class);
    long start = System.nanoTime();
    SnapshotInfo snapshot = sandboxes.checkpoint(id, options);
    metrics.checkpointed(start);
    json(res, 201, snapshot);
  }

  private void suspend(ServerRequest req, ServerResponse res) {
    sandboxes.suspend(sandboxId(req));
    res.status(204).send();
  }

  private void resume(ServerRequest req, ServerResponse res) {
    sandboxes.resume(sandboxId(req));
    res.status(204).send();
  }

  private void spawn(ServerRequest req, ServerResponse res) {
    SandboxId id = sandboxId(req);
    Command command = WireFormat.read(jsonBody(req), CommandBody.class).toCommand();
    json(res, 201, processes.spawn(id, command));
  }

  private void kill(ServerRequest req, ServerResponse res) {
    processes.signal(sandboxId(req), pid(req), 9);
    res.status(204).send();
  }

  private void signal(ServerRequest req, ServerResponse res) {
    SandboxId id = sandboxId(req);
    String pid = pid(req);
    SignalBody body = WireFormat.read(jsonBody(req), SignalBody.class);
    processes.signal(id, pid, body.signal());
    res.status(204).send();
  }

  private void follow(ServerRequest req, ServerResponse res) throws IOException {
    SandboxId id = sandboxId(req);
    String pid = pid(req);
    processes.info(id, pid);
    res.status(200);
    res.header(HeaderNames.CONTENT_TYPE, WireFormat.EVENT_STREAM);
    res.header(HeaderNames.CACHE_CONTROL, "no-cache");
    try (OutputStream out = res.outputStream()) {
      EventStream events = new EventStream(out);
      events.comment("follow " + pid);
      boolean ended =
          processes.follow(
              id,
              pid,
              new ProcessManager.Follower() {
                @Override
                public void chunk(boolean stderr, byte[] data) {
                  events.chunk(stderr ? "stderr" : "stdout", data, 0, data.length);
                }

                @Override
                public void keepAlive() {
                  events.comment("running");
                }

                @Override
                public boolean gone() {
                  return events.broken();
                }
              });
      if (ended) {
        events.json("exit", WireFormat.write(processes.info(id, pid)));
      } else {
        events.json(
            "error",
            WireFormat.write(
                new ErrorBody(
                    ErrorCode.RUNTIME_UNAVAILABLE.name(), "the daemon is shutting down")));
      }
    }
  }

  private void deleteSnapshot(ServerRequest req, ServerResponse res) {
    sandboxes.deleteSnapshot(snapshotId(req));
    res.status(204).send();
  }

  private void fork(ServerRequest req, ServerResponse res) {
    SnapshotId snapshot = snapshotId(req);
    ForkBody body = WireFormat.read(jsonBody(req), ForkBody.class);
    SandboxSpec spec = body.toSpec(snapshot);
    long start = System.nanoTime();
    List<ForkResult> results = sandboxes.fork(spec, body.count());
    metrics.forkBatch(start);
    for (ForkResult r : results) {
      if (r.ok()) {
        metrics.forked(r.duration());
      } else {
        metrics.forkFailed();
      }
    }
    json(res, 200, results);
  }

  private void buildImage(ServerRequest req, ServerResponse res) {
    ImageRecipe recipe = confineFiles(WireFormat.read(jsonBody(req), ImageRecipe.class));
    ProgressListener log =
        (step, done, total) ->
            LOG.info(
                "image build image={} step=\"{}\" done={} total={}",
                recipe.name(),
                step,
                done,
                total);
    json(res, 200, sandboxes.buildImage(recipe, log));
  }

  /**
   * A recipe's {@code files} are host paths the daemon would read as root: only files and
   * directories inside the configured image files directory are allowed (symlinks resolved, so none
   * leads out of it), and the recipe goes on with the resolved paths.
   */
  private ImageRecipe confineFiles(ImageRecipe recipe) {
    if (recipe.files().isEmpty()) {
      return recipe;
    }
    if (imageFilesDir.isEmpty()) {
      throw new InvalidRequestException(
          "this daemon copies no host files into images: start it with --image-files-dir DIR"
              + " and name files inside DIR, or build the image with the CLI on the host");
    }
    Path dir = imageFilesDir.get();
    Map<String, String> resolved = new LinkedHashMap<>();
    for (Map.Entry<String, String> f : recipe.files().entrySet()) {
      Path real;
      try {
        real = dir.resolve(f.getValue()).toRealPath();
      } catch (IOException | RuntimeException e) {
        throw new InvalidRequestException(
            "image file " + f.getValue() + " does not exist in " + dir);
      }
      // a directory is copied without following its symlinks (ImageStore.copyInto)
      if (!real.startsWith(dir) || real.equals(dir)) {
        throw new InvalidRequestException("image file " + f.getValue() + " is not inside " + dir);
      }
      resolved.put(f.getKey(), real.toString());
    }
    return new ImageRecipe(recipe.name(), recipe.suite(), recipe.packages(), resolved);
  }

  private void deleteImage(ServerRequest req, ServerResponse res) {
    sandboxes.deleteImage(req.path().pathParameters().get("name"));
    res.status(204).send();
  }

  // ---- parsing

  static SandboxId sandboxId(ServerRequest req) {
    return SandboxId.of(req.path().pathParameters().get("id"));
  }

  static SnapshotId snapshotId(ServerRequest req) {
    return SnapshotId.of(req.path().pathParameters().get("id"));
  }

  static String pid(ServerRequest req) {
    return ProcessInfo.requireId(req.path().pathParameters().get("pid"));
  }

  /**
   * The {@code path} query parameter: an absolute sandbox path without {@code ..} segments (the
   * service checks the same; refusing here keeps a traversal attempt out of every layer below).
   */
  static String path(ServerRequest req) {
    List<String> all = req.query().all("path", List::of);
    if (all.size() != 1) {
      throw new InvalidRequestException(
          "give exactly one query parameter 'path' (an absolute sandbox path)");
    }
    String p = all.get(0);
    if (p.isEmpty() || !p.startsWith("/") || p.indexOf('\0') >= 0) {
      throw new InvalidRequestException("path must be an absolute sandbox path, got '" + p + "'");
    }
    for (String part : p.split("/")) {
      if (part.equals("..")) {
        throw new InvalidRequestException("path must not contain '..' segments, got '" + p + "'");
      }
    }
    return p;
  }

  private byte[] jsonBody(ServerRequest req) {
    req.headers()
        .first(HeaderNames.CONTENT_TYPE)
        .filter(ct -> !ct.toLowerCase(java.util.Locale.ROOT).startsWith(WireFormat.JSON))
        .ifPresent(
            ct -> {
              throw new InvalidRequestException(
                  "Content-Type must be application/json, got '" + ct + "'");
            });
    return body(req, maxJsonBytes, "JSON body");
  }

  /** Reads at most {@code limit} bytes, refusing (413) a longer body before or while reading. */
  static byte[] body(ServerRequest req, long limit, String what) {
    OptionalLong declared = req.headers().contentLength();
    if (declared.isPresent() && declared.getAsLong() > limit) {
      throw new ForkyardException(
          ErrorCode.LIMIT_EXCEEDED,
          what + " of " + declared.getAsLong() + " bytes is over the limit of " + limit + " bytes");
    }
    if (!req.content().hasEntity()) {
      return new byte[0];
    }
    try (InputStream in = req.content().inputStream()) {
      byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
      if (bytes.length > limit) {
        throw new ForkyardException(
            ErrorCode.LIMIT_EXCEEDED, what + " is over the limit of " + limit + " bytes");
      }
      return bytes;
    } catch (IOException e) {
      throw new InvalidRequestException("could not read the request body: " + e.getMessage(), e);
    } catch (ForkyardException e) {
      throw e;
    } catch (RuntimeException e) {
      // Helidon reports an entity over its own maxPayloadSize this way.
      throw new ForkyardException(
          ErrorCode.LIMIT_EXCEEDED, what + " is over the limit: " + e.getMessage(), e);
    }
  }

  static String clientKey(ServerRequest req) {
    String host =
        req.remotePeer().address() instanceof InetSocketAddress isa
            ? isa.getAddress().getHostAddress()
            : req.remotePeer().host();
    String id = req.headers().first(HeaderNames.create(WireFormat.CLIENT_HEADER)).orElse("");
    if (id.length() > 64) {
      id = id.substring(0, 64);
    }
    return id.isEmpty() ? host : host + "/" + id;
  }

  static void json(ServerResponse res, int status, Object body) {
    res.status(status);
    res.header(HeaderNames.CONTENT_TYPE, WireFormat.JSON);
    res.send(WireFormat.write(body));
  }

  private static byte[] loadOpenApi() {
    try (InputStream in = RestApi.class.getResourceAsStream("/openapi.yaml")) {
      if (in == null) {
        return "openapi: 3.0.3\n".getBytes(StandardCharsets.UTF_8);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
