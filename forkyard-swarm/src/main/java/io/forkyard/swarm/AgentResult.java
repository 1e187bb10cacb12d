package io.forkyard.swarm;

import java.util.Map;
import java.util.Optional;

/**
 * One agent's row of the report.
 *
 * @param agentId 1-based
 * @param sandboxId the fork it ran in during the parallel swarm, or empty if forking failed
 * @param score 0-100, 0 when the agent failed
 * @param details the analysis' structured details (JSON values: maps, lists, strings, numbers)
 * @param forkTimeS this copy's fork time in the batch fork
 * @param executionTimeS this agent's analysis command in the parallel swarm
 * @param sequentialForkTimeS fork time of its fresh fork in the sequential baseline
 * @param sequentialExecutionTimeS its analysis command in the sequential baseline
 * @param error why the agent failed (crash, timeout, bad output); empty when it succeeded
 */
public record AgentResult(
    int agentId,
    String perspective,
    Optional<String> sandboxId,
    int score,
    String finding,
    Map<String, Object> details,
    double forkTimeS,
    double executionTimeS,
    double sequentialForkTimeS,
    double sequentialExecutionTimeS,
    Optional<String> error) {
  public AgentResult {
    sandboxId = sandboxId == null ? Optional.empty() : sandboxId;
    finding = finding == null ? "" : finding;
    details = details == null ? Map.of() : java.util.Collections.unmodifiableMap(details);
    error = error == null ? Optional.empty() : error;
  }

  public boolean ok() {
    return error.isEmpty();
  }

  AgentResult withSequential(double forkS, double execS) {
    return new AgentResult(
        agentId,
        perspective,
        sandboxId,
        score,
        finding,
        details,
        forkTimeS,
        executionTimeS,
        forkS,
        execS,
        error);
  }
}
