package io.forkyard.client;

import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.SandboxId;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A background process in a sandbox, started by the daemon ({@code POST
 * /v1/sandboxes/{id}/processes}) and kept running independently of the request that started it.
 *
 * @param id {@code proc-} followed by 12 hex digits; unique within the daemon
 * @param exitCode meaningful only when {@link State#EXITED}; {@code -signal} when a signal ended it
 * @param message why it FAILED; empty otherwise
 */
public record ProcessInfo(
    String id,
    SandboxId sandbox,
    List<String> argv,
    State state,
    int exitCode,
    Instant startedAt,
    Optional<Instant> endedAt,
    String message) {
  private static final Pattern ID = Pattern.compile("proc-[0-9a-f]{12}");

  public enum State {
    RUNNING,
    EXITED,
    /** The command could not be run (sandbox gone, not RUNNING, runtime error). */
    FAILED
  }

  public ProcessInfo {
    requireId(id);
    argv = List.copyOf(argv == null ? List.of() : argv);
    endedAt = endedAt == null ? Optional.empty() : endedAt;
    message = message == null ? "" : message;
  }

  public static String requireId(String id) {
    if (id == null || !ID.matcher(id).matches()) {
      throw new InvalidRequestException(
          "not a process id: '" + id + "' (expected proc- followed by 12 hex digits)");
    }
    return id;
  }

  public boolean running() {
    return state == State.RUNNING;
  }
}
