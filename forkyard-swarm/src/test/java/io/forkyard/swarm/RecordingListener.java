package io.forkyard.swarm;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Keeps what a swarm run announced, and echoes it to stderr so a failing CI log shows progress. */
final class RecordingListener implements SwarmListener {
  final List<SwarmPhase> started = Collections.synchronizedList(new ArrayList<>());
  final List<SwarmPhase> finished = Collections.synchronizedList(new ArrayList<>());
  final List<String> warnings = Collections.synchronizedList(new ArrayList<>());

  @Override
  public void phaseStarted(SwarmPhase phase, String description) {
    started.add(phase);
    System.err.println(
        "[swarm] phase " + phase.number() + " " + phase.title() + ": " + description);
  }

  @Override
  public void step(SwarmPhase phase, String message, Duration took) {
    System.err.printf("[swarm]   %s (%d ms)%n", message, took.toMillis());
  }

  @Override
  public void agentFinished(SwarmPhase phase, AgentResult r) {
    System.err.printf(
        "[swarm]   %s agent #%d %s: %s%n",
        phase.title(),
        r.agentId(),
        r.perspective(),
        r.ok() ? r.finding() : "FAILED " + r.error().orElse(""));
  }

  @Override
  public void phaseFinished(SwarmPhase phase, Duration took, String summary) {
    finished.add(phase);
    System.err.printf(
        "[swarm] phase %d done in %d ms: %s%n", phase.number(), took.toMillis(), summary);
  }

  @Override
  public void warning(String message) {
    warnings.add(message);
    System.err.println("[swarm] warning: " + message);
  }
}
