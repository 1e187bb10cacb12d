package io.forkyard.swarm;

import java.time.Duration;

/**
 * Told what a swarm run is doing, so a front end can show progress and timing. Called from the
 * orchestrating thread except {@link #agentFinished}, which may come from any agent's thread.
 */
public interface SwarmListener {
  SwarmListener NONE = new SwarmListener() {};

  default void phaseStarted(SwarmPhase phase, String description) {}

  /** One step inside a phase finished (e.g. "tools installed") after {@code took}. */
  default void step(SwarmPhase phase, String message, Duration took) {}

  default void agentFinished(SwarmPhase phase, AgentResult result) {}

  default void phaseFinished(SwarmPhase phase, Duration took, String summary) {}

  /** Something the user should know that is not an error (e.g. the LLM lead fell back). */
  default void warning(String message) {}
}
