package io.forkyard.cli;

import java.net.URI;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The root command: global options and the verb groups. */
@Command(
    name = "forkyard",
    mixinStandardHelpOptions = true,
    version = "forkyard 0.1.0",
    description = "Local sandboxes for AI agents: memory snapshots and millisecond forks.",
    subcommands = {
      SandboxCommand.class,
      SnapshotCommand.class,
      ImageCommand.class,
      SwarmCommand.class,
      ServeCommand.class,
      BenchCommand.class,
      InternalCommand.class,
      picocli.CommandLine.HelpCommand.class
    })
final class ForkyardCommand {
  private final Cli cli;

  ForkyardCommand(Cli cli) {
    this.cli = cli;
  }

  @Option(
      names = "--state-dir",
      scope = ScopeType.INHERIT,
      paramLabel = "DIR",
      description =
          "Where sandboxes, snapshots and images live (default: $FORKYARD_STATE_DIR, else"
              + " /var/lib/forkyard as root, else ~/.forkyard).")
  void stateDir(Path dir) {
    cli.stateDir(dir);
  }

  @Option(
      names = "--images-dir",
      scope = ScopeType.INHERIT,
      paramLabel = "DIR",
      description = "Keep built images here instead of in the state directory (shareable).")
  void imagesDir(Path dir) {
    cli.imagesDir(dir);
  }

  @Option(
      names = "--url",
      scope = ScopeType.INHERIT,
      paramLabel = "URL",
      description = "Talk to a forkyard daemon (forkyard serve) instead; default: $FORKYARD_URL.")
  void url(URI url) {
    cli.url(url);
  }
}
