package io.forkyard.swarm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.SnapshotId;
import io.forkyard.testkit.RealService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * A second code base (test resource "ledger") through real gVisor sandboxes, with user perspective
 * scripts installed in its base: Security and Complexity must agree with bandit and radon on the
 * host, and agents that crash, print something other than JSON or hang fail alone, in their own
 * rows, on a reused base snapshot.
 */
@Tag("integration")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SwarmFailureIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> SCRIPTS = List.of("todos", "crash", "badjson", "hang");

  private RealService real;
  private Path tmp;
  private Path ledger;
  private List<Path> scripts;
  private SwarmReport baseRun;
  private JsonNode baseJson;

  /** One full run on the ledger builds the base both tests use (phase 1 is the slow part). */
  @BeforeAll
  void buildBase() throws Exception {
    real = RealService.start("fy-swarm-it-");
    tmp = Files.createTempDirectory("fy-swarm-failure-it-");
    ledger = HostPython.codebase("ledger", tmp.resolve("ledger"));
    scripts =
        SCRIPTS.stream()
            .map(s -> Path.of("src/test/resources/perspectives", s + ".py").toAbsolutePath())
            .toList();
    SwarmOptions options =
        SwarmOptions.builder()
            .agents(3)
            .perspectives(List.of("security", "complexity", "todos"))
            .perspectiveScripts(scripts)
            .target(ledger)
            .offlineLead(true)
            .resultsPath(tmp.resolve("base.json"))
            .build();
    baseRun = Swarm.create(real.service, options).run(new RecordingListener());
    baseJson = JSON.readTree(tmp.resolve("base.json").toFile());
  }

  @AfterAll
  void cleanUp() {
    if (real != null) {
      real.close();
    }
    if (tmp != null) {
      RealService.deleteTree(tmp);
    }
  }

  @Test
  @Timeout(60)
  void securityAndComplexityAgreeWithBanditAndRadonThroughSandboxes() throws Exception {
    assertThat(baseRun.failedAgents()).isEmpty();
    assertThat(baseRun.targetFiles()).isEqualTo(8);
    JsonNode security = baseJson.get("agents").get(0).get("details");
    List<String> bandit = HostTools.banditFindings(ledger);
    assertThat(bandit).hasSizeGreaterThan(10);
    assertThat(HostTools.securityFindings(security)).isEqualTo(bandit);
    assertThat(security.get("issues").asInt()).isEqualTo(bandit.size());
    assertThat(security.get("high").asLong()).isEqualTo(HostTools.highCount(bandit));

    JsonNode complexity = baseJson.get("agents").get(1).get("details");
    List<String> radon = HostTools.radonBlocks(ledger);
    assertThat(HostTools.complexityBlocks(complexity)).isEqualTo(radon);
    assertThat(complexity.get("above_threshold").asLong())
        .isEqualTo(HostTools.aboveThreshold(radon));
    assertThat(complexity.get("unparsable_files").get(0).asText()).isEqualTo("ledger/broken.py");

    JsonNode todos = baseJson.get("agents").get(2);
    assertThat(todos.get("perspective").asText()).isEqualTo("todos");
    assertThat(todos.get("details").get("todos").asInt()).isEqualTo(1);
    assertThat(todos.get("details").get("locations").get(0).get("file").asText())
        .isEqualTo("ledger/rules.py");
    real.assertNothingRunning();
  }

  @Test
  @Timeout(120)
  void crashBadJsonAndHangFailInTheirOwnRowsWhileTheOthersComplete() throws Exception {
    Path results = tmp.resolve("failures.json");
    SwarmOptions options =
        SwarmOptions.builder()
            .agents(4)
            .perspectives(List.of("structure", "crash", "badjson", "hang"))
            .perspectiveScripts(scripts)
            .snapshot(SnapshotId.of(baseRun.snapshotId()))
            .agentTimeout(Duration.ofSeconds(5))
            .resultsPath(results)
            .build();
    CapturingLead lead = new CapturingLead();
    RecordingListener listener = new RecordingListener();

    SwarmReport report = Swarm.create(real.service, options, lead).run(listener);

    assertThat(report.snapshotReused()).isTrue();
    assertThat(report.setupTimeS()).isZero();
    assertThat(report.target()).as("the snapshot's target").isEqualTo(baseRun.target());
    assertThat(report.targetFiles()).isEqualTo(8);
    List<AgentResult> rows = report.agents();
    assertThat(rows.get(0).ok()).as(rows.get(0).error().orElse("")).isTrue();
    assertThat(rows.get(0).details().get("files")).isEqualTo(8);
    assertThat(rows.get(1).error())
        .hasValue(
            "analysis crashed (exit code 1):"
                + " RuntimeError: deliberate crash in the crash perspective");
    assertThat(rows.get(2).error())
        .hasValueSatisfying(e -> assertThat(e).contains("not JSON", "this is not json"));
    assertThat(rows.get(3).error())
        .hasValueSatisfying(e -> assertThat(e).contains("timed out after 5 s"));

    assertThat(lead.seen.failed()).extracting(AgentResult::agentId).containsExactly(2, 3, 4);
    String failedAction = report.lead().nextActions().get(report.lead().nextActions().size() - 1);
    assertThat(failedAction).contains("#2 (crash)", "#3 (badjson)", "#4 (hang)");

    JsonNode json = JSON.readTree(results.toFile());
    SwarmPipelineIT.assertResultsSchema(json, 4);
    assertThat(json.get("failed_agents").toString()).isEqualTo("[2,3,4]");
    assertThat(json.get("agents").get(3).get("ok").asBoolean()).isFalse();
    assertThat(json.get("agents").get(3).get("error").asText()).contains("timed out");
    real.assertNothingRunning();
  }

  @Test
  @Timeout(60)
  void reuseRefusesPerspectivesTheSnapshotLacksAndAnotherTargetBeforeForking() throws Exception {
    int before = real.service.list().size();
    Path extra = tmp.resolve("scripts/extra.py");
    Files.createDirectories(extra.getParent());
    Files.writeString(extra, "def analyze(target):\n    return {}\n");
    SwarmOptions lacking =
        SwarmOptions.builder()
            .perspectives(List.of("security", "extra"))
            .perspectiveScript(extra)
            .snapshot(SnapshotId.of(baseRun.snapshotId()))
            .resultsPath(tmp.resolve("never.json"))
            .build();
    assertThatThrownBy(() -> Swarm.create(real.service, lacking).run(SwarmListener.NONE))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("not 'extra'")
        .hasMessageContaining("badjson,complexity,crash,docstrings,hang,security,structure,tests");
    SwarmOptions otherTarget =
        SwarmOptions.builder()
            .target(ledger)
            .snapshot(SnapshotId.of(baseRun.snapshotId()))
            .resultsPath(tmp.resolve("never.json"))
            .build();
    assertThatThrownBy(() -> Swarm.create(real.service, otherTarget).run(SwarmListener.NONE))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("drop --target");
    assertThat(real.service.list()).hasSize(before);
    assertThat(tmp.resolve("never.json")).doesNotExist();
  }

  /** The offline lead, keeping what it was given. */
  private static final class CapturingLead implements Lead {
    volatile LeadInput seen;

    @Override
    public String kind() {
      return "offline";
    }

    @Override
    public LeadReport aggregate(LeadInput input) {
      seen = input;
      return new OfflineLead().aggregate(input);
    }
  }
}
