package io.forkyard.swarm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OfflineLeadTest {
  @TempDir Path tmp;

  @Test
  void ranksTheSeededProblemsFirst() throws Exception {
    List<AgentResult> agents = LeadFixtures.sampleAgents(tmp);
    LeadReport r = new OfflineLead().aggregate(LeadFixtures.input(agents));
    assertThat(r.kind()).isEqualTo("offline");
    assertThat(r.topIssues()).hasSize(3);
    assertThat(r.topIssues())
        .extracting(i -> i.file() + ":" + i.line() + " " + i.severity())
        .containsExactly(
            "shop/backup.py:8 HIGH", "shop/calculator.py:10 HIGH", "shop/calculator.py:6 MEDIUM");
    assertThat(r.topIssues().get(0).title()).startsWith("B602");
    assertThat(r.nextActions().get(0)).contains("shop/backup.py:8", "shell=False");
    assertThat(r.nextActions()).anySatisfy(a -> assertThat(a).contains("untested modules"));
    int mean = (int) Math.round(agents.stream().mapToInt(AgentResult::score).average().orElse(0));
    assertThat(r.healthScore()).isEqualTo(mean);
    assertThat(r.scaleSentence()).contains("5 agents", "2.0x", "1.50 s", "3.00 s");
    assertThat(r.fallbackReason()).isEmpty();
  }

  @Test
  void isDeterministic() throws Exception {
    LeadInput in = LeadFixtures.input(LeadFixtures.sampleAgents(tmp));
    assertThat(new OfflineLead().aggregate(in)).isEqualTo(new OfflineLead().aggregate(in));
  }

  @Test
  void complexityComesNextWithoutSecurity() throws Exception {
    List<AgentResult> agents = new ArrayList<>(LeadFixtures.sampleAgents(tmp));
    agents.set(0, LeadFixtures.failed(1, "security", "timed out after 60 s"));
    LeadReport r = new OfflineLead().aggregate(LeadFixtures.input(agents));
    assertThat(r.topIssues().get(0).file()).isEqualTo("shop/pricing.py");
    assertThat(r.topIssues().get(0).line()).isEqualTo(4);
    assertThat(r.topIssues().get(0).severity()).isEqualTo("MEDIUM");
    assertThat(r.nextActions())
        .anySatisfy(a -> assertThat(a).contains("#1 (security)", "timed out"));
  }

  @Test
  void allFailedGivesZeroHealth() {
    LeadReport r =
        new OfflineLead()
            .aggregate(LeadFixtures.input(List.of(LeadFixtures.failed(1, "security", "crash"))));
    assertThat(r.healthScore()).isZero();
    assertThat(r.topIssues()).isEmpty();
  }
}
