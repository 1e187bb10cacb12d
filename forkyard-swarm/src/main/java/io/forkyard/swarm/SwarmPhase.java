package io.forkyard.swarm;

/** The steps of one swarm run, in the order they happen. */
public enum SwarmPhase {
  /** Base sandbox: tools, target, warm worker, MEMORY checkpoint. Skipped with a given snapshot. */
  BASE_SNAPSHOT("base snapshot"),
  /** N forks of the base snapshot in one batch. */
  FORK("agent forking"),
  /** Every agent alone, one after another, each on a fresh fork: the speedup's denominator. */
  SEQUENTIAL("sequential baseline"),
  /** All agents at once on the forks of {@link #FORK}. */
  PARALLEL("parallel swarm"),
  /** The lead reads every report and the timings. */
  LEAD("lead aggregation"),
  /** Only with compare: no snapshot vs FILESYSTEM forks vs MEMORY forks. */
  COMPARE("comparison");

  private final String title;

  SwarmPhase(String title) {
    this.title = title;
  }

  public String title() {
    return title;
  }

  public int number() {
    return ordinal() + 1;
  }
}
