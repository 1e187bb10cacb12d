package io.forkyard.cli;

import ch.qos.logback.classic.Level;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.core.SandboxService;
import io.forkyard.server.ForkyardServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code forkyard serve}: the REST daemon over the embedded service of this state directory.
 * Opening the service recovers what a previous daemon left (adopts live sandboxes with their TTLs,
 * reaps expired and orphaned ones). On SIGTERM or SIGINT it stops accepting requests (503), lets
 * requests in flight finish within the grace period, then hands the TTLs of the sandboxes it leaves
 * running to detached watchdogs, so they hold until a successor adopts the sandboxes.
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Run the REST daemon (docs/daemon.md); prints its URL as the first line of stdout.",
      "SIGTERM/SIGINT: refuses new requests, waits for those in flight, exits; sandboxes",
      "stay running, their TTLs held by watchdogs until the next daemon adopts them."
    })
final class ServeCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

  private final Cli cli;

  @Option(
      names = "--bind",
      paramLabel = "ADDR",
      description = "Address to listen on (default 127.0.0.1); a non-loopback one needs auth on.")
  String bind = ForkyardServer.DEFAULT_BIND;

  @Option(
      names = "--port",
      paramLabel = "N",
      description = "Port (default 7420; 0 picks a free one, see the printed URL).")
  int port = ForkyardServer.DEFAULT_PORT;

  @Option(
      names = "--no-auth",
      description = "No bearer token (refused unless --bind is a loopback address).")
  boolean noAuth;

  @Option(
      names = "--image-files-dir",
      paramLabel = "DIR",
      description =
          "Image recipes sent to the daemon may copy files from this host directory only"
              + " (default: none; recipes with files are refused).")
  Path imageFilesDir;

  @Option(
      names = "--shutdown-grace-secs",
      paramLabel = "N",
      description = "On SIGTERM, wait up to N s for requests in flight (default 10).")
  long graceSecs = 10;

  ServeCommand(Cli cli) {
    this.cli = cli;
  }

  @Override
  public Integer call() throws InterruptedException {
    if (cli.url().isPresent()) {
      throw new InvalidRequestException(
          "serve runs a daemon on this host; drop --url / FORKYARD_URL");
    }
    if (graceSecs < 0 || graceSecs > 3600) {
      throw new InvalidRequestException(
          "--shutdown-grace-secs must be between 0 and 3600, got " + graceSecs);
    }
    if (!cli.env.containsKey("FORKYARD_LOG_LEVEL")
        && LoggerFactory.getLogger("io.forkyard") instanceof ch.qos.logback.classic.Logger l) {
      l.setLevel(Level.INFO); // a daemon's request log is its audit trail
    }
    Main.quietWebServerLogs();
    cli.longRunning();
    if (!(cli.sandboxes() instanceof SandboxService service)) {
      throw new InvalidRequestException("serve needs the embedded service of this host");
    }
    Path stateDir = service.stateDir();
    ForkyardServer.Builder b =
        ForkyardServer.builder()
            .sandboxes(service)
            .stateDir(stateDir)
            .bind(bind)
            .port(port)
            .shutdownGrace(Duration.ofSeconds(graceSecs));
    if (noAuth) {
      b.disableAuth();
    }
    if (imageFilesDir != null) {
      b.imageFilesDir(imageFilesDir);
    }
    ForkyardServer server = b.build();
    List<String> reaper = Main.reaperCommand(stateDir, cli.imagesDir());
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook =
        Thread.ofPlatform()
            .name("forkyard-serve-stop")
            .unstarted(
                () -> {
                  try {
                    server.stop();
                    int handedOver = service.handOverTtls(reaper);
                    LOG.info("daemon exiting ttlHandedOver={}", handedOver);
                  } finally {
                    stopped.countDown();
                  }
                });
    server.start();
    Runtime.getRuntime().addShutdownHook(hook);
    cli.out.println(server.url());
    cli.out.flush();
    cli.err.println(
        "forkyard: daemon listening on "
            + server.url()
            + (noAuth
                ? " without authentication"
                : "; bearer token in " + stateDir.resolve("daemon").resolve("token"))
            + "; SIGTERM or Ctrl-C stops it");
    // The hook runs on SIGTERM/SIGINT; this thread only waits for it to have handed over.
    stopped.await();
    return 0;
  }
}
