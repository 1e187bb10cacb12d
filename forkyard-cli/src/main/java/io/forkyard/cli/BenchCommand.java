package io.forkyard.cli;

import io.forkyard.api.ForkyardException;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.bench.ForkBench;
import io.forkyard.bench.LoadBench;
import io.forkyard.client.RemoteSandboxes;
import io.forkyard.server.ForkyardServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
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
    subcommands = {BenchCommand.Fork.class, BenchCommand.Load.class})
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

  @Command(
      name = "load",
      mixinStandardHelpOptions = true,
      description = {
        "Concurrent clients of a daemon, each its own connection, each doing create -> exec ->",
        "fork (shared MEMORY snapshot) -> exec -> terminate; latency percentiles per operation,",
        "throughput, failures and leaked sandboxes. Drives the daemon at --url / FORKYARD_URL",
        "(loopback only), else one it starts in this process on 127.0.0.1. Exits non-zero when",
        "an operation failed, an iteration was skipped by the deadline or a sandbox leaked."
      })
  static final class Load implements Callable<Integer> {
    private final Cli cli;

    @Option(names = "--clients", paramLabel = "N", description = "Concurrent clients (50).")
    int clients = 50;

    @Option(names = "--iterations", paramLabel = "N", description = "Per client (default 1).")
    int iterations = 1;

    @Option(
        names = "--deadline-secs",
        paramLabel = "N",
        description = "No iteration starts after N s (default 600); 60 s later all stop.")
    long deadlineSecs = 600;

    @Option(names = "--image", paramLabel = "NAME", description = "Image (default python).")
    String image = "python";

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results here.")
    Path json;

    Load(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      cli.longRunning();
      LoadBench.Options options =
          new LoadBench.Options(
              clients,
              iterations,
              Duration.ofSeconds(deadlineSecs),
              image,
              cli.url().map(URI::toString).orElse("an in-process daemon on 127.0.0.1"));
      ForkyardServer embedded = null;
      URI url;
      String token;
      if (cli.url().isPresent()) {
        url = cli.url().get();
        requireLoopback(url);
        token = cli.token();
      } else {
        Main.quietWebServerLogs();
        embedded =
            ForkyardServer.builder()
                .sandboxes(cli.sandboxes())
                .bind(ForkyardServer.DEFAULT_BIND)
                .port(0)
                .build()
                .start();
        url = embedded.url();
        token = embedded.token();
      }
      Map<String, Object> report;
      try (RemoteSandboxes admin = RemoteSandboxes.connect(url, token)) {
        report = LoadBench.run(admin, i -> RemoteSandboxes.connect(url, token), options, cli.err);
      } finally {
        if (embedded != null) {
          embedded.stop();
        }
      }
      if (json != null) {
        try {
          ForkBench.writeJson(report, json);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot write " + json + ": " + e.getMessage(), e);
        }
        cli.err.println("bench: results written to " + json);
      }
      LoadBench.printTable(report, cli.out);
      int failures = ((Number) report.get("failures")).intValue();
      int leaked = ((Number) report.get("leaked_sandboxes")).intValue();
      Map<?, ?> it = (Map<?, ?>) report.get("iterations");
      int skipped = ((Number) it.get("skipped_by_deadline")).intValue();
      if (failures + leaked + skipped > 0) {
        throw new ForkyardException(
            io.forkyard.api.ErrorCode.INTERNAL,
            failures
                + " failed operation(s), "
                + skipped
                + " iteration(s) skipped by the deadline, "
                + leaked
                + " leaked sandbox(es); see the report");
      }
      return 0;
    }

    /** Load is for a daemon on this machine: it must not become a way to flood another host. */
    private static void requireLoopback(URI url) {
      boolean loopback;
      try {
        loopback =
            url.getHost() != null && InetAddress.getByName(url.getHost()).isLoopbackAddress();
      } catch (UnknownHostException e) {
        loopback = false;
      }
      if (!loopback) {
        throw new InvalidRequestException(
            "bench load drives only a daemon on this host (a loopback address such as"
                + " http://127.0.0.1:7420), got "
                + url);
      }
    }
  }
}
