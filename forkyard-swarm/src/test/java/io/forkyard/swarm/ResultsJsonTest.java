package io.forkyard.swarm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultsJsonTest {
  @TempDir Path tmp;

  private SwarmReport report(Optional<CompareReport> compare) throws Exception {
    List<AgentResult> agents = new ArrayList<>(LeadFixtures.sampleAgents(tmp));
    agents.add(LeadFixtures.failed(6, "security", "timed out after 60 s"));
    LeadReport lead = new OfflineLead().aggregate(LeadFixtures.input(agents));
    return new SwarmReport(
        "bundled sample",
        8,
        1,
        "snap-0123456789ab",
        false,
        42.5,
        Map.of("dpkg_install_s", 20.0),
        agents,
        0.6,
        4.2,
        1.4,
        2.0,
        2.1,
        35.0,
        2,
        105.0,
        lead,
        compare,
        tmp.resolve("out/benchmark_results.json"));
  }

  @Test
  void writesTheKeysTheIssueNames() throws Exception {
    SwarmReport r = report(Optional.empty());
    ResultsJson.write(r, r.resultsPath());
    JsonNode j = new ObjectMapper().readTree(r.resultsPath().toFile());
    JsonNode a = j.get("agents").get(0);
    for (String key :
        List.of(
            "agent_id",
            "perspective",
            "score",
            "finding",
            "details",
            "fork_time_s",
            "execution_time_s")) {
      assertThat(a.has(key)).as(key).isTrue();
    }
    assertThat(a.get("details").get("issues").isInt()).isTrue();
    assertThat(j.get("sequential").get("total_time_s").asDouble()).isEqualTo(4.2);
    assertThat(j.get("parallel").get("total_time_s").asDouble()).isEqualTo(2.0);
    assertThat(j.get("speedup").asDouble()).isEqualTo(2.1);
    assertThat(j.get("efficiency_pct").asDouble()).isEqualTo(35.0);
    assertThat(j.get("cores_efficiency_pct").asDouble()).isEqualTo(105.0);
    assertThat(j.get("setup_time_s").asDouble()).isEqualTo(42.5);
    assertThat(j.get("lead_kind").asText()).isEqualTo("offline");
    assertThat(j.get("lead").get("top_issues")).hasSize(3);
    assertThat(j.get("failed_agents").get(0).asInt()).isEqualTo(6);
    assertThat(j.get("agents").get(5).get("error").asText()).contains("timed out");
    assertThat(j.has("compare")).isFalse();
  }

  @Test
  void printsAReadableReportWithComparison() throws Exception {
    CompareReport c =
        new CompareReport(
            5,
            40,
            List.of(
                new CompareReport.Mode("memory_snapshot", 2, 0.3, 0.5, 0.4, 0.2, 0, List.of()),
                new CompareReport.Mode("filesystem_snapshot", 4, 1.5, 2.5, 0.4, 0.3, 0, List.of()),
                new CompareReport.Mode(
                    "no_snapshot", 90, 80, 85, 0.5, 0, 1, List.of("setup failed: x"))),
            Map.of("no_snapshot_vs_memory_wall", 45.0));
    SwarmReport r = report(Optional.of(c));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ReportPrinter.print(r, new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String text = bytes.toString(StandardCharsets.UTF_8);
    assertThat(text)
        .contains(
            "speedup",
            "2.10 x",
            "health score",
            "FAILED: timed out",
            "no_snapshot",
            "45.0x",
            "lead: offline");
    assertThat(
            ResultsJson.toJson(r)
                .get("compare")
                .get("modes")
                .get("no_snapshot")
                .get("wall_s")
                .asDouble())
        .isEqualTo(90);
  }
}
