package io.forkyard.cli;

import io.forkyard.api.Resources;
import io.forkyard.api.SnapshotId;
import io.forkyard.swarm.AgentResult;
import io.forkyard.swarm.Perspectives;
import io.forkyard.swarm.ReportPrinter;
import io.forkyard.swarm.Swarm;
import io.forkyard.swarm.SwarmListener;
import io.forkyard.swarm.SwarmOptions;
import io.forkyard.swarm.SwarmPhase;
import io.forkyard.swarm.SwarmReport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code forkyard swarm}: the multi-agent analysis job (docs/swarm.md). Progress goes to stderr,
 * the report to stdout, the figures to the results file. Ctrl-C terminates every sandbox it made.
 */
@Command(
    name = "swarm",
    mixinStandardHelpOptions = true,
    description =
        "N analysis agents on forks of one memory snapshot, a lead that merges their reports, and"
            + " the benchmark: base snapshot, agent forking, sequential baseline, parallel swarm,"
            + " lead aggregation. See docs/swarm.md.")
final class SwarmCommand implements Callable<Integer> {
  private final Cli cli;

  @Option(
      names = "--agents",
      paramLabel = "N",
      description = "How many agents, each in its own fork (default 5).")
  int agents = SwarmOptions.DEFAULT_AGENTS;

  @Option(
      names = "--perspectives",
      split = ",",
      paramLabel = "NAME",
      description =
          "Perspectives, comma-separated, repeated round-robin over the agents (default:"
              + " security,complexity,docstrings,tests,structure).")
  List<String> perspectives = new ArrayList<>();

  @Option(
      names = "--perspective-script",
      paramLabel = "FILE",
      description = "Your own perspective: NAME.py with analyze(target) (repeatable).")
  List<Path> scripts = new ArrayList<>();

  @Option(
      names = "--target",
      paramLabel = "DIR",
      description = "Code base to analyse (Python files; default: the bundled sample).")
  Path target;

  @Option(
      names = "--snapshot",
      paramLabel = "ID",
      description = "Reuse the base snapshot of an earlier run and skip phase 1.")
  String snapshot;

  @Option(
      names = "--compare",
      description = "Also run the agents with no snapshot, FILESYSTEM and MEMORY forks.")
  boolean compare;

  @Option(
      names = "--results",
      paramLabel = "FILE",
      description = "Where to write the results (default: ./benchmark_results.json).")
  Path results;

  @Option(
      names = "--agent-timeout-secs",
      paramLabel = "N",
      description = "Limit for one agent's analysis (default 120).")
  long agentTimeoutSecs = SwarmOptions.DEFAULT_AGENT_TIMEOUT.toSeconds();

  @Option(
      names = "--offline",
      description = "Use the built-in offline lead even when an LLM is configured.")
  boolean offline;

  @Option(
      names = "--llm-base-url",
      paramLabel = "URL",
      description =
          "OpenAI-compatible base URL, e.g. http://localhost:11434/v1 (default:"
              + " $OPENAI_BASE_URL, else OpenAI's).")
  String llmBaseUrl;

  @Option(
      names = "--llm-model",
      paramLabel = "NAME",
      description = "Model (default: $OPENAI_MODEL, else " + SwarmOptions.DEFAULT_MODEL + ").")
  String llmModel;

  @Option(
      names = "--llm-key",
      paramLabel = "KEY",
      description = "API key (default: $OPENAI_API_KEY).")
  String llmKey;

  @Option(names = "--image", paramLabel = "NAME", description = "Base image (default: python).")
  String image;

  @Option(
      names = "--cpus",
      paramLabel = "N",
      description = "CPUs of the base, inherited by every fork (default 1).")
  int cpus = SwarmOptions.DEFAULT_RESOURCES.cpus();

  @Option(
      names = "--memory-mb",
      paramLabel = "MIB",
      description = "Memory of the base, inherited by every fork (default 1024).")
  int memoryMb = SwarmOptions.DEFAULT_RESOURCES.memoryMb();

  @Option(
      names = "--disk-mb",
      paramLabel = "MIB",
      description = "Disk of the base, inherited by every fork (default 2048).")
  int diskMb = SwarmOptions.DEFAULT_RESOURCES.diskMb();

  @Option(
      names = "--deb-cache",
      paramLabel = "DIR",
      description =
          "Where Debian packages for the sandbox are kept (default:"
              + " $XDG_CACHE_HOME/forkyard/debs, else ~/.cache/forkyard/debs).")
  Path debCache;

  SwarmCommand(Cli cli) {
    this.cli = cli;
  }

  SwarmOptions options() {
    SwarmOptions.Builder b =
        SwarmOptions.builder()
            .agents(agents)
            .perspectives(perspectives)
            .perspectiveScripts(scripts)
            .target(target)
            .compare(compare)
            .resultsPath(results)
            .agentTimeout(Duration.ofSeconds(agentTimeoutSecs))
            .offlineLead(offline)
            .llmBaseUrl(llmBaseUrl)
            .llmModel(llmModel)
            .llmApiKey(llmKey)
            .image(image)
            .resources(new Resources(cpus, memoryMb, diskMb))
            .debCacheDir(debCache);
    if (snapshot != null) {
      b.snapshot(SnapshotId.of(snapshot));
    }
    return b.build();
  }

  @Override
  public Integer call() {
    SwarmOptions options = options();
    // Unknown perspectives and bad scripts are refused before anything starts.
    Perspectives.validate(options.perspectives(), options.perspectiveScripts());
    SwarmReport report =
        Swarm.create(cli.sandboxes(), options).run(new Progress(options.compare() ? 6 : 5));
    ReportPrinter.print(report, cli.out);
    return 0;
  }

  /** One line per phase, step and agent on stderr, so stdout holds only the report. */
  private final class Progress implements SwarmListener {
    private final int phases;

    Progress(int phases) {
      this.phases = phases;
    }

    @Override
    public void phaseStarted(SwarmPhase phase, String description) {
      line("[%d/%d] %s: %s", phase.number(), phases, phase.title(), description);
    }

    @Override
    public void step(SwarmPhase phase, String message, Duration took) {
      line("      %s (%.2f s)", message, took.toNanos() / 1e9);
    }

    @Override
    public void agentFinished(SwarmPhase phase, AgentResult r) {
      line(
          "      agent #%d %-11s %6.2f s  %s",
          r.agentId(),
          r.perspective(),
          r.executionTimeS(),
          r.ok() ? "score " + r.score() : "FAILED: " + r.error().orElse(""));
    }

    @Override
    public void phaseFinished(SwarmPhase phase, Duration took, String summary) {
      line(
          "[%d/%d] %s done in %.2f s: %s",
          phase.number(), phases, phase.title(), took.toNanos() / 1e9, summary);
    }

    @Override
    public void warning(String message) {
      line("warning: %s", message);
    }

    private void line(String format, Object... args) {
      synchronized (cli.err) {
        cli.err.println("swarm " + String.format(Locale.ROOT, format, args));
      }
    }
  }
}
