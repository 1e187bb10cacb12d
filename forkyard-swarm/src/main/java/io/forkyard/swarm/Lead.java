package io.forkyard.swarm;

/** Reads every agent report with the timings and returns one prioritized verdict. */
public interface Lead {
  /** "offline" or "openai". */
  String kind();

  /**
   * @throws LeadException when this lead cannot produce a verdict (the swarm then falls back to the
   *     offline lead)
   */
  LeadReport aggregate(LeadInput input);
}
