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
            "shop/backup.py:8 HIGH", "shop/calculator.py:6 MEDIUM", "shop/config.py:9 MEDIUM");
    assertThat(r.topIssues().get(0).title()).startsWith("B602");
    assertThat(r.topIssues().get(1).title()).startsWith("B307");
    assertThat(r.topIssues().get(2).title()).startsWith("B106");
    assertThat(r.nextActions().get(0)).contains("shop/backup.py:8", "shell=False");
    assertThat(r.nextActions().get(3))
        .as("complexity has no top-three issue, so its worst function comes next")
        .contains("shipping_cost", "shop/pricing.py:4");
    assertThat(r.nextActions()).anySatisfy(a -> assertThat(a).contains("untested modules"));
    int mean = (int) Math.round(agents.stream().mapToInt(AgentResult::score).average().orElse(0));
    assertThat(r.healthScore()).isEqualTo(mean);
    assertThat(r.scaleSentence()).contains("5 agents", "2.0x", "1.50 s", "3.00 s");
    assertThat(r.fallbackReason()).isEmpty();
  }

  @Test
  void ratesPython2InputLowAndHardCodedPasswordsMedium() {
    assertThat(OfflineLead.severity("B322", "HIGH")).isEqualTo("LOW");
    assertThat(OfflineLead.severity("B106", "LOW")).isEqualTo("MEDIUM");
    assertThat(OfflineLead.severity("B105", "HIGH")).isEqualTo("HIGH");
    assertThat(OfflineLead.severity("B602", "HIGH")).isEqualTo("HIGH");
    assertThat(OfflineLead.severity("B101", "LOW")).isEqualTo("LOW");
  }

  @Test
  void namesFailedAgentsEvenWhenActionsOverflow() throws Exception {
    List<AgentResult> agents = new ArrayList<>(LeadFixtures.sampleAgents(tmp));
    agents.add(LeadFixtures.failed(6, "hang", "timed out after 5 s"));
    LeadReport r = new OfflineLead().aggregate(LeadFixtures.input(agents));
    assertThat(r.nextActions()).hasSizeLessThanOrEqualTo(6);
    assertThat(r.nextActions().get(r.nextActions().size() - 1))
        .contains("#6 (hang)", "timed out after 5 s");
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
