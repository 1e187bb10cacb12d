package io.forkyard.cli;

import io.forkyard.api.SnapshotId;
import io.forkyard.api.SnapshotInfo;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code forkyard snapshot ...}: the durable snapshots that forks start from. */
@Command(
    name = "snapshot",
    mixinStandardHelpOptions = true,
    description = "List, show and delete snapshots.",
    subcommands = {SnapshotCommand.Ls.class, SnapshotCommand.Show.class, SnapshotCommand.Rm.class})
final class SnapshotCommand {
  private SnapshotCommand() {}

  @Command(name = "ls", mixinStandardHelpOptions = true, description = "List snapshots.")
  static final class Ls implements Callable<Integer> {
    private final Cli cli;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    Ls(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      List<SnapshotInfo> snapshots = cli.sandboxes().snapshots();
      if (json) {
        Output.json(cli.out, snapshots.stream().map(Output::snapshot).toList());
        return 0;
      }
      Output.Table t =
          new Output.Table("ID", "TYPE", "STATUS", "SOURCE", "IMAGE", "SIZE", "CREATED");
      for (SnapshotInfo s : snapshots) {
        t.row(
            s.id(),
            s.type(),
            s.status(),
            s.sourceSandbox(),
            s.image(),
            Output.size(s.sizeBytes()),
            Output.time(s.createdAt()));
      }
      t.print(cli.out);
      return 0;
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one snapshot.")
  static final class Show implements Callable<Integer> {
    private final Cli cli;

    @Parameters(index = "0", paramLabel = "SNAPSHOT")
    String snapshot;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    Show(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      SnapshotInfo info = cli.sandboxes().snapshot(SnapshotId.of(snapshot));
      if (json) {
        Output.json(cli.out, Output.snapshot(info));
      } else {
        Output.keyValues(cli.out, Output.snapshot(info));
      }
      return 0;
    }
  }

  @Command(
      name = "rm",
      mixinStandardHelpOptions = true,
      description = "Delete snapshots; sandboxes forked from them keep running.")
  static final class Rm implements Callable<Integer> {
    private final Cli cli;

    @Parameters(arity = "1..*", paramLabel = "SNAPSHOT")
    List<String> snapshots;

    Rm(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      int exit = 0;
      for (String ref : snapshots) {
        try {
          cli.sandboxes().deleteSnapshot(SnapshotId.of(ref));
        } catch (RuntimeException e) {
          var fe = Main.asForkyard(e);
          cli.err.println("forkyard: " + fe.getMessage());
          if (exit == 0) {
            exit = fe.code().exitCode();
          }
        }
      }
      return exit;
    }
  }
}
