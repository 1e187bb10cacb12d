package io.forkyard.cli;

import io.forkyard.api.InvalidRequestException;
import io.forkyard.core.SandboxService;
import io.forkyard.server.ForkyardServer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code forkyard serve}: the REST daemon over the embedded service of this host's state directory.
 * Runs until SIGTERM or Ctrl-C, then stops accepting work and waits for requests in flight;
 * sandboxes keep running under their TTLs and a later daemon adopts them.
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Run the REST daemon on 127.0.0.1:7420.",
      "Clients use --url / FORKYARD_URL with the token from FORKYARD_TOKEN or",
      "<state-dir>/daemon/token (see docs/daemon.md)."
    })
final class ServeCommand implements Callable<Integer> {
  private final Cli cli;

  @Option(
      names = "--bind",
      paramLabel = "ADDR",
      description = "Address to listen on (default ${DEFAULT-VALUE}).")
  String bind = ForkyardServer.DEFAULT_BIND;

  @Option(
      names = "--port",
      paramLabel = "N",
      description = "Port (default ${DEFAULT-VALUE}; 0 picks a free one).")
  int port = ForkyardServer.DEFAULT_PORT;

  @Option(
      names = "--no-auth",
      description = "Serve without a token (refused unless bound to a loopback address).")
  boolean noAuth;

  ServeCommand(Cli cli) {
    this.cli = cli;
  }

  @Override
  public Integer call() throws InterruptedException {
    if (cli.url().isPresent()) {
      throw new InvalidRequestException(
          "serve runs the daemon on this host; drop --url / FORKYARD_URL");
    }
    Path stateDir = cli.stateDir().orElseGet(SandboxService::defaultStateDir);
    ForkyardServer.Builder b =
        ForkyardServer.builder()
            .sandboxes(cli.sandboxes())
            .stateDir(stateDir)
            .bind(bind)
            .port(port)
            .shutdownHook(true);
    if (noAuth) {
      b.disableAuth();
    }
    ForkyardServer server = b.build().start();
    cli.err.println("forkyard: daemon listening on " + server.url());
    if (!noAuth) {
      cli.err.println(
          "forkyard: clients authenticate with the token in "
              + stateDir.resolve("daemon").resolve("token")
              + " (FORKYARD_TOKEN)");
    }
    // Scripts wait for this line on stdout to know the daemon is up and where.
    cli.out.println(server.url());
    cli.out.flush();
    server.awaitStopped();
    return 0;
  }
}
