package io.forkyard.cli;

import java.nio.file.Path;
import java.util.List;

/** The detached TTL watchdog of a state directory (at most one sleeps per directory). */
final class Watchdogs {
  private Watchdogs() {}

  /** Watchdog processes of {@code stateDir}. */
  static List<ProcessHandle> of(Path stateDir) {
    // The classpath makes the command line long enough to be cut; the name comes first.
    String name = "forkyard-ttl-watchdog:" + stateDir.toAbsolutePath();
    return ProcessHandle.allProcesses()
        .filter(
            ph -> {
              String line = ph.info().commandLine().orElse("");
              return line.contains(name + " ") || line.endsWith(name);
            })
        .toList();
  }

  static void stop(Path stateDir) {
    for (ProcessHandle ph : of(stateDir)) {
      ph.descendants().forEach(ProcessHandle::destroy);
      ph.destroy();
    }
  }
}
