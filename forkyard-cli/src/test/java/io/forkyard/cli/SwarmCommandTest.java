package io.forkyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.forkyard.api.ErrorCode;
import io.forkyard.api.Resources;
import io.forkyard.swarm.SwarmOptions;
import io.forkyard.testkit.FakeSandboxes;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The swarm verb's flags reach SwarmOptions; bad input is refused before any sandbox exists. */
class SwarmCommandTest {
  private final FakeSandboxes fake = FakeSandboxes.scripted();
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return Main.run(
        args,
        new ByteArrayInputStream(new byte[0]),
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8),
        Map.of(),
        cli -> fake);
  }

  private static SwarmOptions parse(String... args) {
    Cli cli =
        new Cli(
            new ByteArrayInputStream(new byte[0]),
            System.out,
            System.err,
            Map.of(),
            c -> {
              throw new AssertionError("parsing must not connect");
            });
    CommandLine cmd = Main.commandLine(cli);
    CommandLine.ParseResult parsed = cmd.parseArgs(args);
    SwarmCommand swarm = parsed.subcommand().commandSpec().commandLine().getCommand();
    return swarm.options();
  }

  @Test
  void flagsMapOntoSwarmOptions() {
    SwarmOptions o =
        parse(
            "swarm",
            "--agents",
            "7",
            "--perspectives",
            "security,complexity",
            "--target",
            "/src/app",
            "--snapshot",
            "snap-0123456789ab",
            "--results",
            "/tmp/r.json",
            "--agent-timeout-secs",
            "30",
            "--offline",
            "--llm-base-url",
            "http://localhost:11434/v1",
            "--llm-model",
            "llama3.1",
            "--llm-key",
            "k",
            "--image",
            "python",
            "--cpus",
            "2",
            "--memory-mb",
            "2048",
            "--disk-mb",
            "4096",
            "--deb-cache",
            "/tmp/debs");
    assertThat(o.agents()).isEqualTo(7);
    assertThat(o.perspectives()).containsExactly("security", "complexity");
    assertThat(o.target()).contains(Path.of("/src/app"));
    assertThat(o.snapshot().get().value()).isEqualTo("snap-0123456789ab");
    assertThat(o.resultsPath()).isEqualTo(Path.of("/tmp/r.json"));
    assertThat(o.agentTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(o.offlineLead()).isTrue();
    assertThat(o.llmBaseUrl()).contains("http://localhost:11434/v1");
    assertThat(o.llmModel()).contains("llama3.1");
    assertThat(o.llmApiKey()).contains("k");
    assertThat(o.resources()).isEqualTo(new Resources(2, 2048, 4096));
    assertThat(o.debCacheDir()).isEqualTo(Path.of("/tmp/debs"));
    assertThat(o.compare()).isFalse();
  }

  @Test
  void defaultsAreSwarmOptionsDefaults() {
    SwarmOptions o = parse("swarm");
    SwarmOptions d = SwarmOptions.defaults();
    assertThat(o.agents()).isEqualTo(d.agents());
    assertThat(o.perspectives()).isEqualTo(d.perspectives());
    assertThat(o.resultsPath()).isEqualTo(d.resultsPath());
    assertThat(o.agentTimeout()).isEqualTo(d.agentTimeout());
    assertThat(o.resources()).isEqualTo(d.resources());
    assertThat(o.image()).isEqualTo(d.image());
    assertThat(o.offlineLead()).isFalse();
  }

  @Test
  void rejectsUnknownPerspectiveBeforeAnySandbox() {
    assertThat(run("swarm", "--perspectives", "security,nope"))
        .isEqualTo(ErrorCode.INVALID_REQUEST.exitCode());
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("unknown perspective 'nope'");
    assertThat(fake.sandboxes).isEmpty();
  }

  @Test
  void rejectsCompareWithSnapshotBeforeAnySandbox() {
    assertThat(run("swarm", "--compare", "--snapshot", "snap-0123456789ab"))
        .isEqualTo(ErrorCode.INVALID_REQUEST.exitCode());
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("--compare");
    assertThat(fake.sandboxes).isEmpty();
    assertThat(List.of(out.toString(StandardCharsets.UTF_8))).containsExactly("");
  }
}
