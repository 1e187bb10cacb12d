package io.forkyard.server;

import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.Sandboxes;
import io.helidon.webserver.WebServer;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The forkyard daemon ({@code forkyard serve}): the {@link Sandboxes} SDK as a REST API on a
 * Helidon SE web server with virtual threads. Routes are listed in {@code /openapi.yaml}, served by
 * the daemon itself. The daemon only parses and delegates: one long-lived {@code SandboxService}
 * does the work (TTLs, recovery on start), and the caller owns it: {@link #stop()} does not close
 * it.
 *
 * <pre>{@code
 * try (SandboxService service = SandboxService.builder().stateDir(dir).build();
 *     ForkyardServer server =
 *         ForkyardServer.builder().sandboxes(service).stateDir(dir).port(7420).build().start()) {
 *   server.awaitStopped(); // returns after stop(), e.g. from the SIGTERM shutdown hook
 * }
 * }</pre>
 *
 * <p>Authentication: every route except {@code /v1/health} needs {@code Authorization: Bearer
 * <token>}. The token is {@link Builder#token} if given, else read from {@code
 * <stateDir>/daemon/token} (created 0600 with a random token on first start), else a random token
 * for this run only ({@link #token()}). Auth can be switched off only on a loopback address.
 */
public final class ForkyardServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ForkyardServer.class);

  public static final int DEFAULT_PORT = 7420;
  public static final String DEFAULT_BIND = "127.0.0.1";

  private final Builder config;
  private final String token;
  private final InetAddress bindAddress;
  private final ProcessManager processes;
  private final DaemonMetrics metrics = new DaemonMetrics();
  private final RestApi api;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private WebServer webServer;
  private Thread shutdownHook;
  private boolean stopping;

  private ForkyardServer(Builder b) {
    this.config = b;
    try {
      this.bindAddress = InetAddress.getByName(b.bind);
    } catch (UnknownHostException e) {
      throw new InvalidRequestException("cannot bind to '" + b.bind + "': unknown host", e);
    }
    if (b.authDisabled) {
      if (!bindAddress.isLoopbackAddress()) {
        throw new InvalidRequestException(
            "refusing to serve without a token on the non-loopback address "
                + b.bind
                + "; drop the no-auth option or bind to 127.0.0.1");
      }
      this.token = "";
    } else if (b.token != null) {
      this.token = b.token;
    } else if (b.stateDir != null) {
      this.token = TokenAuth.loadOrCreate(b.stateDir);
    } else {
      this.token = TokenAuth.randomToken();
    }
    this.processes =
        new ProcessManager(b.sandboxes, b.processBufferBytes, b.maxProcessesPerSandbox);
    this.api =
        new RestApi(
            b.sandboxes,
            processes,
            metrics,
            new TokenAuth(token),
            new ClientLimiter(b.maxConcurrentPerClient, b.maxConcurrent),
            b.maxJsonBytes,
            b.maxFileBytes,
            Optional.ofNullable(b.imageFilesDir));
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Binds and starts serving. Throws {@link ForkyardException} ({@code RUNTIME_UNAVAILABLE}) when
   * it cannot listen, e.g. the port is taken: Helidon only logs that and returns a server that is
   * not running, which would otherwise be reported as started on port -1.
   */
  public synchronized ForkyardServer start() {
    if (webServer != null) {
      throw new IllegalStateException("already started");
    }
    WebServer ws =
        WebServer.builder()
            .address(bindAddress)
            .port(config.port)
            .shutdownHook(false)
            // No Helidon payload limit: RestApi.body checks per route and answers 413 in JSON.
            .shutdownGracePeriod(config.shutdownGrace)
            .routing(api::register)
            .build()
            .start();
    if (!ws.isRunning() || ws.port() <= 0) {
      ws.stop();
      throw new ForkyardException(
          ErrorCode.RUNTIME_UNAVAILABLE,
          "cannot listen on "
              + config.bind
              + ":"
              + config.port
              + " (address in use or not allowed; is another daemon running there?);"
              + " stop it or choose another port");
    }
    webServer = ws;
    if (config.shutdownHook) {
      shutdownHook = Thread.ofPlatform().name("forkyard-shutdown").unstarted(this::stop);
      Runtime.getRuntime().addShutdownHook(shutdownHook);
    }
    LOG.info(
        "daemon started url={} auth={} tokenFile={}",
        url(),
        token.isEmpty() ? "off" : "bearer",
        config.stateDir == null || config.token != null
            ? "-"
            : TokenAuth.tokenFile(config.stateDir));
    return this;
  }

  /** The bound port (the ephemeral one when built with {@code port(0)}). */
  public int port() {
    requireStarted();
    return webServer.port();
  }

  /** {@code http://<bind>:<port>}, what {@code --url} / {@code FORKYARD_URL} take. */
  public URI url() {
    String host = bindAddress.getHostAddress();
    if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return URI.create("http://" + host + ":" + port());
  }

  /** The bearer token clients must send; empty when auth is off. */
  public String token() {
    return token;
  }

  public boolean running() {
    return webServer != null && webServer.isRunning() && stopped.getCount() > 0;
  }

  /**
   * Stops accepting work (new requests get 503), ends the streams of followed processes, waits up
   * to the shutdown grace period for the other requests in flight, kills the background processes,
   * and closes the port. Idempotent. Sandboxes are left as they are (the caller owns the service).
   */
  public void stop() {
    synchronized (this) {
      if (stopping || webServer == null) {
        return;
      }
      stopping = true;
    }
    LOG.info("daemon stopping inFlight={}", api.inFlight());
    api.drain();
    processes.endFollowers();
    long deadline = System.nanoTime() + config.shutdownGrace.toNanos();
    while (api.inFlight() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    processes.close();
    webServer.stop();
    if (shutdownHook != null && Thread.currentThread() != shutdownHook) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException alreadyShuttingDown) {
        // the JVM is exiting anyway
      }
    }
    stopped.countDown();
    LOG.info("daemon stopped inFlightLeft={}", api.inFlight());
  }

  /** Blocks until {@link #stop()} has finished (from another thread or the shutdown hook). */
  public void awaitStopped() throws InterruptedException {
    stopped.await();
  }

  @Override
  public void close() {
    stop();
  }

  /** Method and path template of every route, as registered (for the OpenAPI check). */
  List<RestApi.Route> routes() {
    return api.routes();
  }

  DaemonMetrics metrics() {
    return metrics;
  }

  int inFlight() {
    return api.inFlight();
  }

  private void requireStarted() {
    if (webServer == null) {
      throw new IllegalStateException("call start() first");
    }
  }

  public static final class Builder {
    private Sandboxes sandboxes;
    private String bind = DEFAULT_BIND;
    private int port = DEFAULT_PORT;
    private Path stateDir;
    private String token;
    private boolean authDisabled;
    private long maxJsonBytes = 1024 * 1024;
    private long maxFileBytes = 256L * 1024 * 1024;
    private int maxConcurrentPerClient = 32;
    private int maxConcurrent = 512;
    private int processBufferBytes = 1024 * 1024;
    private int maxProcessesPerSandbox = 32;
    private Duration shutdownGrace = Duration.ofSeconds(10);
    private boolean shutdownHook;
    private Path imageFilesDir;

    private Builder() {}

    /**
     * The only host directory whose files image recipes sent to the daemon may copy into images.
     * Without it the daemon refuses recipes with {@code files}: a token holder could otherwise read
     * any host file the daemon can (e.g. /etc/shadow) through an image.
     */
    public Builder imageFilesDir(Path dir) {
      try {
        this.imageFilesDir = dir.toRealPath();
      } catch (java.io.IOException e) {
        throw new InvalidRequestException("image files directory " + dir + " does not exist", e);
      }
      if (!java.nio.file.Files.isDirectory(imageFilesDir)) {
        throw new InvalidRequestException("image files directory " + dir + " is not a directory");
      }
      return this;
    }

    /** The service every route delegates to; required. The caller keeps ownership. */
    public Builder sandboxes(Sandboxes sandboxes) {
      this.sandboxes = Objects.requireNonNull(sandboxes);
      return this;
    }

    /** Address to bind, default 127.0.0.1. A non-loopback address needs auth on. */
    public Builder bind(String address) {
      this.bind = Objects.requireNonNull(address);
      return this;
    }

    /** Port, default 7420; 0 picks a free one (see {@link ForkyardServer#port()}). */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new InvalidRequestException("port must be between 0 and 65535, got " + port);
      }
      this.port = port;
      return this;
    }

    /** The service's state directory; the token lives in {@code <stateDir>/daemon/token}. */
    public Builder stateDir(Path dir) {
      this.stateDir = Objects.requireNonNull(dir);
      return this;
    }

    /** A fixed bearer token (at least 16 characters) instead of the token file. */
    public Builder token(String token) {
      if (token == null || token.strip().length() < TokenAuth.MIN_LENGTH) {
        throw new InvalidRequestException(
            "a token needs at least " + TokenAuth.MIN_LENGTH + " characters");
      }
      this.token = token.strip();
      return this;
    }

    /** No authentication at all; {@link #build()} refuses this for a non-loopback bind. */
    public Builder disableAuth() {
      this.authDisabled = true;
      return this;
    }

    /** Largest JSON request body, default 1 MiB; larger is 413. */
    public Builder maxJsonBytes(long bytes) {
      this.maxJsonBytes = positive(bytes, "maxJsonBytes");
      return this;
    }

    /** Largest file upload, default 256 MiB; larger is 413. */
    public Builder maxFileBytes(long bytes) {
      this.maxFileBytes = positive(bytes, "maxFileBytes");
      return this;
    }

    /** Operations in flight per client (address + X-Forkyard-Client), default 32; more is 429. */
    public Builder maxConcurrentPerClient(int n) {
      this.maxConcurrentPerClient = (int) positive(n, "maxConcurrentPerClient");
      return this;
    }

    /** Operations in flight in all, default 512; more is 429. */
    public Builder maxConcurrent(int n) {
      this.maxConcurrent = (int) positive(n, "maxConcurrent");
      return this;
    }

    /** Output kept per background process for late followers, default 1 MiB. */
    public Builder processBufferBytes(int bytes) {
      this.processBufferBytes = (int) positive(bytes, "processBufferBytes");
      return this;
    }

    /** Background processes running at once per sandbox, default 32. */
    public Builder maxProcessesPerSandbox(int n) {
      this.maxProcessesPerSandbox = (int) positive(n, "maxProcessesPerSandbox");
      return this;
    }

    /** How long {@link ForkyardServer#stop()} waits for requests in flight, default 10 s. */
    public Builder shutdownGrace(Duration grace) {
      this.shutdownGrace = Objects.requireNonNull(grace);
      return this;
    }

    /** Stop cleanly on SIGTERM/SIGINT (a JVM shutdown hook); off by default, on for serve. */
    public Builder shutdownHook(boolean on) {
      this.shutdownHook = on;
      return this;
    }

    public ForkyardServer build() {
      if (sandboxes == null) {
        throw new IllegalStateException("sandboxes(...) is required");
      }
      return new ForkyardServer(this);
    }

    private static long positive(long v, String what) {
      if (v <= 0) {
        throw new InvalidRequestException(what + " must be positive, got " + v);
      }
      return v;
    }
  }
}
