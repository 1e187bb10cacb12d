package io.forkyard.swarm;

import java.util.List;

/**
 * What the lead reads: every agent's row (failed ones included, marked) and the timings.
 *
 * @param cores CPU cores available to this process
 * @param setupTimeS phase 1; 0 when a snapshot was reused
 * @param forkTimeS mean fork time per agent
 */
public record LeadInput(
    String target,
    List<AgentResult> agents,
    double setupTimeS,
    double forkTimeS,
    double sequentialTotalS,
    double parallelTotalS,
    double speedup,
    double efficiencyPct,
    int cores) {
  public LeadInput {
    agents = List.copyOf(agents);
  }

  public List<AgentResult> failed() {
    return agents.stream().filter(a -> !a.ok()).toList();
  }
}
