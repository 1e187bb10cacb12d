package io.forkyard.cli;

import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.Resources;
import io.forkyard.api.SnapshotId;
import io.forkyard.swarm.AgentResult;
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
 * {@code forkyard swarm}: the main job. N agents analyse a code base from different perspectives in
 * forks of one memory snapshot; a lead merges their reports. Progress goes to stderr, the report to
 * stdout, the figures to {@code benchmark_results.json}.
 */
@Command(
    name = "swarm",
    mixinStandardHelpOptions = true,
    description = {
      "The main job: code-analysis agents in parallel forks, merged by a lead.",
      "N agents analyse a code base from different perspectives in forks of one memory snapshot;",
      "a lead merges their findings; the timing shows what the snapshot bought (docs/swarm.md)."
    })
final class SwarmCommand implements Callable<Integer> {
  private final Cli cli;

  @Option(
      names = {"-n", "--agents"},
      paramLabel = "N",
      description = "Agents (forks) to run (default ${DEFAULT-VALUE}).")
  int agents = SwarmOptions.DEFAULT_AGENTS;

  @Option(
      names = "--perspectives",
      split = ",",
      paramLabel = "NAME",
      description =
          "Perspectives, comma-separated (default: security,complexity,docstrings,tests,structure);"
              + " they repeat round-robin when there are more agents.")
  List<String> perspectives = new ArrayList<>();

  @Option(
      names = "--perspective-script",
      paramLabel = "FILE",
      description = "A Python perspective of your own; its file stem becomes its name.")
  List<Path> scripts = new ArrayList<>();

  @Option(
      names = "--target",
      paramLabel = "DIR",
      description = "Code base to analyse (default: the bundled sample).")
  Path target;

  @Option(
      names = "--snapshot",
      paramLabel = "ID",
      description = "Reuse the base snapshot of an earlier run and skip phase 1.")
  String snapshot;

  @Option(
      names = "--compare",
      description = "Also run no-snapshot vs FILESYSTEM vs MEMORY forks side by side.")
  boolean compare;

  @Option(
      names = "--results",
      paramLabel = "FILE",
      description = "Where the results JSON goes (default ./benchmark_results.json).")
  Path results = Path.of("benchmark_results.json");

  @Option(
      names = "--agent-timeout-secs",
      paramLabel = "N",
      description = "Limit for one agent's analysis (default ${DEFAULT-VALUE}).")
  long agentTimeoutSecs = SwarmOptions.DEFAULT_AGENT_TIMEOUT.toSeconds();

  @Option(names = "--image", paramLabel = "NAME", description = "Base image (default python).")
  String image = "python";

  @Option(names = "--cpus", paramLabel = "N", description = "CPUs of the base and every fork.")
  int cpus = SwarmOptions.DEFAULT_RESOURCES.cpus();

  @Option(names = "--memory-mb", paramLabel = "MIB", description = "Memory of base and forks.")
  int memoryMb = SwarmOptions.DEFAULT_RESOURCES.memoryMb();

  @Option(
      names = "--llm-base-url",
      paramLabel = "URL",
      description = "OpenAI-compatible API base (…/v1); default $OPENAI_BASE_URL.")
  String llmBaseUrl;

  @Option(
      names = "--llm-model",
      paramLabel = "NAME",
      description = "Model for the lead; default $OPENAI_MODEL or " + SwarmOptions.DEFAULT_MODEL)
  String llmModel;

  @Option(
      names = "--llm-api-key",
      paramLabel = "KEY",
      description = "API key; default $OPENAI_API_KEY (prefer the variable: flags show in ps).")
  String llmApiKey;

  @Option(names = "--offline-lead", description = "Never call an LLM; use the offline lead.")
  boolean offlineLead;

  SwarmCommand(Cli cli) {
    this.cli = cli;
  }

  SwarmOptions options() {
    if (agentTimeoutSecs < 1) {
      throw new InvalidRequestException("--agent-timeout-secs must be at least 1");
    }
    SwarmOptions.Builder b =
        SwarmOptions.builder()
            .agents(agents)
            .perspectives(perspectives)
            .perspectiveScripts(scripts)
            .target(target)
            .compare(compare)
            .resultsPath(results)
            .agentTimeout(Duration.ofSeconds(agentTimeoutSecs))
            .image(image)
            .resources(new Resources(cpus, memoryMb, SwarmOptions.DEFAULT_RESOURCES.diskMb()))
            .llmBaseUrl(llmBaseUrl)
            .llmModel(llmModel)
            .llmApiKey(llmApiKey)
            .offlineLead(offlineLead);
    if (snapshot != null) {
      b.snapshot(SnapshotId.of(snapshot));
    }
    return b.build();
  }

  @Override
  public Integer call() {
    SwarmOptions options = options();
    Swarm swarm = Swarm.create(cli.sandboxes(), options);
    List<String> plan = swarm.plan(); // unknown perspectives fail here, before any sandbox
    cli.err.printf(
        Locale.ROOT,
        "swarm: %d agents (%s), %s lead%n",
        plan.size(),
        String.join(", ", plan),
        swarm.lead().kind());
    SwarmReport report = swarm.run(new Progress(cli, options.compare() ? 6 : 5));
    ReportPrinter.print(report, cli.out);
    cli.err.println("swarm: results written to " + options.resultsPath().toAbsolutePath());
    return 0;
  }

  /** One line per phase, step and agent on stderr, with timings: readable in a terminal and CI. */
  private record Progress(Cli cli, int phases) implements SwarmListener {
    @Override
    public void phaseStarted(SwarmPhase phase, String description) {
      cli.err.printf(
          Locale.ROOT, "[%d/%d] %s: %s%n", phase.number(), phases, phase.title(), description);
    }

    @Override
    public void step(SwarmPhase phase, String message, Duration took) {
      cli.err.printf(Locale.ROOT, "      %-60s %7.2f s%n", message, seconds(took));
    }

    @Override
    public void agentFinished(SwarmPhase phase, AgentResult a) {
      String what = a.ok() ? a.finding() : "FAILED: " + a.error().orElse("");
      synchronized (cli.err) {
        cli.err.printf(
            Locale.ROOT,
            "      agent %-2d %-11s %s%n",
            a.agentId(),
            a.perspective(),
            what.length() > 70 ? what.substring(0, 67) + "..." : what);
      }
    }

    @Override
    public void phaseFinished(SwarmPhase phase, Duration took, String summary) {
      cli.err.printf(Locale.ROOT, "      done in %.2f s: %s%n", seconds(took), summary);
    }

    @Override
    public void warning(String message) {
      cli.err.println("swarm: warning: " + message);
    }

    private static double seconds(Duration d) {
      return d.toNanos() / 1e9;
    }
  }
}
