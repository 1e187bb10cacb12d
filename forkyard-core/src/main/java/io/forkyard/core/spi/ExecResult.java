package io.forkyard.core.spi;

import java.time.Duration;

/**
 * Raw outcome of a command. Output is bytes; the service decodes it for users.
 *
 * @param exitCode exit code, or {@code -signal} when killed by a signal
 * @param stdoutTruncated more than the cap was produced; the rest was read and dropped
 */
public record ExecResult(
    int exitCode,
    byte[] stdout,
    byte[] stderr,
    boolean timedOut,
    boolean stdoutTruncated,
    boolean stderrTruncated,
    Duration duration) {}
