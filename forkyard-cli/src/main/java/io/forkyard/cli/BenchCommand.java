package io.forkyard.cli;

import io.forkyard.api.ForkyardException;
import io.forkyard.bench.ForkBench;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code forkyard bench ...}: benchmarks with machine-readable results. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Benchmarks (measured side by side, never asserted).",
    subcommands = {BenchCommand.Fork.class})
final class BenchCommand {
  private BenchCommand() {}

  @Command(
      name = "fork",
      mixinStandardHelpOptions = true,
      description = {
        "Cold create vs MEMORY and FILESYSTEM forks, checkpoint time, batch forks of 1/5/20",
        "and host memory per idle fork; p50/p95 over --runs rounds, scenarios interleaved."
      })
  static final class Fork implements Callable<Integer> {
    private final Cli cli;

    @Option(names = "--runs", paramLabel = "N", description = "Measured rounds (default 5).")
    int runs = 5;

    @Option(names = "--warmup", paramLabel = "N", description = "Unrecorded rounds (default 1).")
    int warmup = 1;

    @Option(names = "--image", paramLabel = "NAME", description = "Image (default python).")
    String image = "python";

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results here.")
    Path json;

    Fork(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      ForkBench.Options options = new ForkBench.Options(runs, warmup, image);
      Map<String, Object> report = ForkBench.run(cli.sandboxes(), options, cli.err);
      if (json != null) {
        try {
          ForkBench.writeJson(report, json);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot write " + json + ": " + e.getMessage(), e);
        }
        cli.err.println("bench: results written to " + json);
      }
      ForkBench.printTable(report, cli.out);
      List<?> errors = (List<?>) report.get("errors");
      if (!errors.isEmpty()) {
        throw new ForkyardException(
            io.forkyard.api.ErrorCode.INTERNAL,
            errors.size() + " benchmark step(s) failed; see the errors above");
      }
      return 0;
    }
  }
}
