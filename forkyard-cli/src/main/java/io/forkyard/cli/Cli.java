package io.forkyard.cli;

import io.forkyard.api.NotFoundException;
import io.forkyard.api.SandboxId;
import io.forkyard.api.SandboxInfo;
import io.forkyard.api.Sandboxes;
import io.forkyard.client.RemoteSandboxes;
import io.forkyard.core.SandboxService;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * What one CLI invocation works with: its streams, its environment, the global options and the
 * {@link Sandboxes} they select. The service is connected on first use, so {@code --help} and parse
 * errors never touch the state directory.
 */
final class Cli implements AutoCloseable {
  /** Opens the SDK a CLI invocation talks to: embedded by default, remote with {@code --url}. */
  @FunctionalInterface
  interface Connector {
    Sandboxes connect(Cli cli);
  }

  final InputStream in;
  final PrintStream out;
  final PrintStream err;
  final Map<String, String> env;
  private final Connector connector;
  private Path stateDir;
  private Path imagesDir;
  private URI url;
  private Sandboxes sandboxes;
  private ProgressDisplay implicitProgress;
  private boolean longRunning;

  Cli(
      InputStream in,
      PrintStream out,
      PrintStream err,
      Map<String, String> env,
      Connector connector) {
    this.in = in;
    this.out = out;
    this.err = err;
    this.env = Map.copyOf(env);
    this.connector = connector;
  }

  void stateDir(Path dir) {
    this.stateDir = dir;
  }

  /** {@code --state-dir}, else the embedded service's default; empty means "service default". */
  Optional<Path> stateDir() {
    return Optional.ofNullable(stateDir);
  }

  void imagesDir(Path dir) {
    this.imagesDir = dir;
  }

  /** {@code --images-dir}: built images shared between state directories. */
  Optional<Path> imagesDir() {
    return Optional.ofNullable(imagesDir);
  }

  void url(URI url) {
    this.url = url;
  }

  /** {@code --url}, else {@code $FORKYARD_URL}: when present the CLI talks to a daemon. */
  Optional<URI> url() {
    if (url != null) {
      return Optional.of(url);
    }
    String fromEnv = env.get("FORKYARD_URL");
    return fromEnv == null || fromEnv.isBlank()
        ? Optional.empty()
        : Optional.of(URI.create(fromEnv));
  }

  /**
   * The daemon's bearer token: {@code $FORKYARD_TOKEN}, else the token file a daemon on this host
   * wrote in the state directory ({@code --state-dir} or the default), else empty (the daemon then
   * answers 401 saying where the token is).
   */
  String token() {
    String fromEnv = env.get(RemoteSandboxes.TOKEN_ENV);
    if (fromEnv != null && !fromEnv.isBlank()) {
      return fromEnv.strip();
    }
    return RemoteSandboxes.localToken(stateDir().orElseGet(SandboxService::defaultStateDir))
        .orElse("");
  }

  /**
   * Declares this invocation long-running (serve, bench): it enforces TTLs itself while it runs, so
   * the embedded service starts no detached TTL watchdog per sandbox. Call before {@link
   * #sandboxes()}.
   */
  void longRunning() {
    this.longRunning = true;
  }

  boolean isLongRunning() {
    return longRunning;
  }

  Sandboxes sandboxes() {
    if (sandboxes == null) {
      sandboxes = connector.connect(this);
    }
    return sandboxes;
  }

  /**
   * Resolves what a user typed for a sandbox: an id as is, otherwise the name of a sandbox that is
   * not final (names of terminated sandboxes may be reused).
   */
  SandboxId sandboxId(String ref) {
    if (ref.startsWith("sb-")) {
      return SandboxId.of(ref);
    }
    return sandboxes().list().stream()
        .filter(s -> s.name().equals(ref) && !s.state().isFinal())
        .map(SandboxInfo::id)
        .findFirst()
        .orElseThrow(
            () ->
                new NotFoundException(
                    "no sandbox with id or name '" + ref + "'; `forkyard sandbox ls` lists them"));
  }

  /**
   * Progress of slow steps a verb did not ask for (the default image built on first use), shown
   * only once something happens.
   */
  synchronized ProgressDisplay implicitProgress() {
    if (implicitProgress == null) {
      implicitProgress = ProgressDisplay.lazy(this, "preparing");
    }
    return implicitProgress;
  }

  @Override
  public void close() {
    if (implicitProgress != null) {
      implicitProgress.close();
    }
    if (sandboxes != null) {
      sandboxes.close();
      sandboxes = null;
    }
  }
}
