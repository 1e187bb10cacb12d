package io.forkyard.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Verbs forkyard runs itself, not meant for users. */
@Command(
    name = "internal",
    hidden = true,
    description = "Verbs forkyard runs itself.",
    subcommands = {InternalCommand.Reap.class})
final class InternalCommand {
  private InternalCommand() {}

  /**
   * Run by a TTL watchdog: opening the service terminates expired sandboxes and reaps orphans, so a
   * CLI-made sandbox's TTL holds after the CLI has exited.
   */
  @Command(name = "reap", description = "Terminate expired sandboxes of the state directory.")
  static final class Reap implements Callable<Integer> {
    private final Cli cli;

    Reap(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      cli.sandboxes();
      return 0;
    }
  }
}
