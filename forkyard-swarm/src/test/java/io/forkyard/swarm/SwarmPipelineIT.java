package io.forkyard.swarm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkyard.api.SnapshotId;
import io.forkyard.api.SnapshotStatus;
import io.forkyard.api.SnapshotType;
import io.forkyard.testkit.RealService;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole swarm on real gVisor sandboxes with the bundled sample and three agents: five phases,
 * the results file, the offline lead's verdict, bandit/radon agreement through the sandboxes, and
 * nothing left running.
 */
@Tag("integration")
class SwarmPipelineIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;
  private RealService real;

  @BeforeEach
  void open() throws Exception {
    real = RealService.start("fy-swarm-it-");
  }

  @AfterEach
  void close() {
    if (real != null) {
      real.close();
    }
  }

  @Test
  @Timeout(180)
  void sampleRunsAllFivePhasesAgreesWithHostToolsAndLeavesNothingRunning() throws Exception {
    Path results = tmp.resolve("out/benchmark_results.json");
    SwarmOptions options =
        SwarmOptions.builder().agents(3).offlineLead(true).resultsPath(results).build();
    RecordingListener listener = new RecordingListener();

    SwarmReport report = Swarm.create(real.service, options).run(listener);

    List<SwarmPhase> five =
        List.of(
            SwarmPhase.BASE_SNAPSHOT,
            SwarmPhase.FORK,
            SwarmPhase.SEQUENTIAL,
            SwarmPhase.PARALLEL,
            SwarmPhase.LEAD);
    assertThat(listener.started).isEqualTo(five);
    assertThat(listener.finished).isEqualTo(five);
    assertThat(report.agents())
        .extracting(AgentResult::perspective)
        .containsExactly("security", "complexity", "docstrings");
    assertThat(report.failedAgents()).as("failed agents").isEmpty();
    assertThat(report.setupTimeS()).isPositive();
    assertThat(report.sequentialTotalS()).isPositive();
    assertThat(report.parallelTotalS()).isPositive();

    JsonNode json = JSON.readTree(results.toFile());
    assertResultsSchema(json, 3);
    assertLeadNamesTheSeededProblems(json.get("lead"));

    Path sample = tmp.resolve("sample");
    TargetFiles.sample().writeTo(sample);
    JsonNode security = json.get("agents").get(0).get("details");
    List<String> bandit = HostTools.banditFindings(sample);
    assertThat(HostTools.securityFindings(security)).isEqualTo(bandit);
    assertThat(security.get("issues").asInt()).isEqualTo(bandit.size());
    assertThat(security.get("high").asLong()).isEqualTo(HostTools.highCount(bandit));
    JsonNode complexity = json.get("agents").get(1).get("details");
    List<String> radon = HostTools.radonBlocks(sample);
    assertThat(HostTools.complexityBlocks(complexity)).isEqualTo(radon);
    assertThat(complexity.get("above_threshold").asLong())
        .isEqualTo(HostTools.aboveThreshold(radon));

    // The base snapshot stays for --snapshot reuse; no sandbox does.
    var snapshot = real.service.snapshot(SnapshotId.of(report.snapshotId()));
    assertThat(snapshot.type()).isEqualTo(SnapshotType.MEMORY);
    assertThat(snapshot.status()).isEqualTo(SnapshotStatus.COMPLETED);
    assertThat(snapshot.labels())
        .containsEntry(Swarm.LABEL_TARGET, "bundled sample")
        .containsEntry(Swarm.LABEL_FILES, "8")
        .containsEntry(Swarm.LABEL_PERSPECTIVES, "complexity,docstrings,security,structure,tests");
    // The MEMORY base restores on the FILESYSTEM tools layer, which stays with it.
    assertThat(real.service.snapshots())
        .extracting(s -> s.type())
        .containsExactlyInAnyOrder(SnapshotType.MEMORY, SnapshotType.FILESYSTEM);
    // install sandbox + warm-worker sandbox + 3 forks for the parallel run + 3 fresh forks for
    // the sequential baseline
    assertThat(real.service.list()).hasSize(8);
    real.assertNothingRunning();
  }

  static void assertResultsSchema(JsonNode json, int agents) {
    assertThat(json.get("agents")).hasSize(agents);
    int id = 1;
    for (JsonNode a : json.get("agents")) {
      assertThat(a.get("agent_id").asInt()).isEqualTo(id++);
      assertThat(a.get("perspective").isTextual()).isTrue();
      assertThat(a.get("score").isInt()).isTrue();
      assertThat(a.get("score").asInt()).isBetween(0, 100);
      assertThat(a.get("finding").isTextual()).isTrue();
      assertThat(a.get("details").isObject()).isTrue();
      assertThat(a.get("fork_time_s").isNumber()).isTrue();
      assertThat(a.get("execution_time_s").isNumber()).isTrue();
      assertThat(a.get("fork_time_s").asDouble()).isGreaterThanOrEqualTo(0);
      assertThat(a.get("execution_time_s").asDouble()).isGreaterThanOrEqualTo(0);
    }
    assertThat(json.get("sequential").get("total_time_s").asDouble()).isPositive();
    assertThat(json.get("parallel").get("total_time_s").asDouble()).isPositive();
    double speedup = json.get("speedup").asDouble();
    assertThat(speedup).isPositive();
    assertThat(json.get("efficiency_pct").asDouble())
        .isCloseTo(speedup / agents * 100, org.assertj.core.data.Offset.offset(0.5));
  }

  private static void assertLeadNamesTheSeededProblems(JsonNode lead) {
    assertThat(lead.get("kind").asText()).isEqualTo("offline");
    assertThat(lead.get("health_score").asInt()).isBetween(0, 99);
    assertThat(lead.get("top_issues")).hasSize(3);
    for (JsonNode issue : lead.get("top_issues")) {
      assertThat(issue.get("file").asText()).isNotBlank();
      assertThat(issue.get("line").asInt()).isPositive();
      assertThat(issue.get("severity").asText()).isIn("HIGH", "MEDIUM", "LOW");
    }
    assertThat(lead.get("next_actions")).isNotEmpty();
    assertThat(lead.get("scale_sentence").asText()).contains("3 agents").contains("speedup");
    List<String> text = new ArrayList<>();
    lead.get("top_issues").forEach(i -> text.add(i.toString()));
    lead.get("next_actions").forEach(a -> text.add(a.asText()));
    String all = String.join("\n", text);
    System.err.println("[swarm] lead:\n" + all);
    assertThat(all)
        .as("the lead names the sample's seeded problems")
        .contains("shop/backup.py") // subprocess with shell=True
        .contains("shop/calculator.py") // eval of user input
        .contains("shop/config.py") // hard-coded password
        .contains("shop/pricing.py"); // deeply branching function
  }
}
