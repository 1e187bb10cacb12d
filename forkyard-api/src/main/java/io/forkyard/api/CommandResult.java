package io.forkyard.api;

import java.time.Duration;

/**
 * Outcome of one command. Output is decoded as UTF-8 (invalid bytes become U+FFFD). Each stream is
 * capped; past the cap the rest is dropped, the flag is set and a marker line ends the text.
 *
 * @param exitCode the program's exit code; {@code -signal} when a signal killed it
 * @param timedOut true when forkyard killed the command at its timeout
 * @param duration from start request to exit, as seen by the host
 */
public record CommandResult(
    int exitCode,
    String stdout,
    String stderr,
    boolean timedOut,
    boolean stdoutTruncated,
    boolean stderrTruncated,
    Duration duration) {
  public CommandResult {
    stdout = stdout == null ? "" : stdout;
    stderr = stderr == null ? "" : stderr;
    duration = duration == null ? Duration.ZERO : duration;
  }

  public boolean succeeded() {
    return exitCode == 0 && !timedOut;
  }
}
