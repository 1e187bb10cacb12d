package io.forkyard.swarm;

import java.util.List;
import java.util.Map;

/**
 * Side-by-side measurement of the same N agents on the same target in three ways.
 *
 * @param baseSetupS building the shared base (tools, target, worker) once, for modes b and c
 * @param ratios e.g. "no_snapshot_vs_memory_wall" → wall(no snapshot) / wall(memory)
 */
public record CompareReport(
    int agents, double baseSetupS, List<Mode> modes, Map<String, Double> ratios) {
  public CompareReport {
    modes = List.copyOf(modes);
    ratios = Map.copyOf(ratios);
  }

  /**
   * One way of giving N agents an environment.
   *
   * @param name no_snapshot, filesystem_snapshot or memory_snapshot
   * @param wallS first create to last return, for all N agents at once
   * @param setupOverheadS mean per agent: from its create call until it could start analysing
   * @param setupWallS until the last agent could start analysing
   * @param analysisMeanS mean analysis command time
   * @param checkpointS making this mode's snapshot from the base (0 without one)
   * @param failures agents that did not return a valid result
   */
  public record Mode(
      String name,
      double wallS,
      double setupOverheadS,
      double setupWallS,
      double analysisMeanS,
      double checkpointS,
      int failures,
      List<String> errors) {
    public Mode {
      errors = List.copyOf(errors);
    }
  }
}
