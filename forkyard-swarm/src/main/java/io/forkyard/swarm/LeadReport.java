package io.forkyard.swarm;

import java.util.List;
import java.util.Optional;

/**
 * The lead's verdict.
 *
 * @param kind which lead produced it: "offline" or "openai"
 * @param model the LLM's model name; empty for the offline lead
 * @param healthScore 0-100
 * @param topIssues up to three, most urgent first
 * @param fallbackReason set when the LLM lead failed and the offline lead answered instead
 */
public record LeadReport(
    String kind,
    Optional<String> model,
    int healthScore,
    List<LeadIssue> topIssues,
    List<String> nextActions,
    String scaleSentence,
    Optional<String> fallbackReason) {
  public LeadReport {
    model = model == null ? Optional.empty() : model;
    healthScore = Math.max(0, Math.min(100, healthScore));
    topIssues = List.copyOf(topIssues);
    nextActions = List.copyOf(nextActions);
    scaleSentence = scaleSentence == null ? "" : scaleSentence;
    fallbackReason = fallbackReason == null ? Optional.empty() : fallbackReason;
  }

  LeadReport withFallback(String reason) {
    return new LeadReport(
        kind, model, healthScore, topIssues, nextActions, scaleSentence, Optional.of(reason));
  }
}
