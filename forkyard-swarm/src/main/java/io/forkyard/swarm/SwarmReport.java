package io.forkyard.swarm;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything one swarm run measured and concluded.
 *
 * @param snapshotId the MEMORY base snapshot the agents forked from (kept for --snapshot reuse)
 * @param snapshotReused true when phase 1 was skipped
 * @param setupTimeS phase 1 wall time; 0 when reused
 * @param setupSteps phase 1 step name to seconds
 * @param forkWallS phase 2: the batch fork of all agents
 * @param sequentialTotalS phase 3: every agent alone, fork and analysis, one after another
 * @param parallelRunS phase 4: all analyses at once, first start to last return
 * @param parallelTotalS forkWallS + parallelRunS: first fork to last return of the parallel swarm
 * @param speedup sequentialTotalS / parallelTotalS
 * @param efficiencyPct speedup / agents × 100
 * @param coresEfficiencyPct speedup / min(agents, cores) × 100
 */
public record SwarmReport(
    String target,
    int targetFiles,
    int skippedFiles,
    String snapshotId,
    boolean snapshotReused,
    double setupTimeS,
    Map<String, Double> setupSteps,
    List<AgentResult> agents,
    double forkWallS,
    double sequentialTotalS,
    double parallelRunS,
    double parallelTotalS,
    double speedup,
    double efficiencyPct,
    int cores,
    double coresEfficiencyPct,
    LeadReport lead,
    Optional<CompareReport> compare,
    Path resultsPath) {
  public SwarmReport {
    setupSteps = Map.copyOf(setupSteps);
    agents = List.copyOf(agents);
    compare = compare == null ? Optional.empty() : compare;
  }

  public List<AgentResult> failedAgents() {
    return agents.stream().filter(a -> !a.ok()).toList();
  }
}
