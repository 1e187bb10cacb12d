package io.forkyard.swarm;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkyard.api.Command;
import io.forkyard.api.CommandResult;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.SandboxId;
import io.forkyard.api.Sandboxes;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One agent's analysis: an exec of the tiny client with {@code PERSPECTIVE} set, whose stdout must
 * be exactly one JSON line. Anything else is this agent's error, never the swarm's.
 */
final class AgentRun {
  static final ObjectMapper JSON = new ObjectMapper();

  /** What one exec produced: a parsed analysis or an error, and how long the command took. */
  record Outcome(
      int score,
      String finding,
      Map<String, Object> details,
      Optional<String> error,
      double seconds) {
    static Outcome failed(String error, double seconds) {
      return new Outcome(0, "", Map.of(), Optional.of(error), seconds);
    }
  }

  private AgentRun() {}

  static Command command(String perspective, Duration timeout) {
    return Command.of("/usr/bin/python3", "-S", SandboxSetup.CLIENT)
        .withEnv(SandboxSetup.ENV)
        .withEnv("PERSPECTIVE", perspective)
        .withTimeout(timeout);
  }

  static Outcome run(Sandboxes sandboxes, SandboxId id, String perspective, Duration timeout) {
    long t0 = System.nanoTime();
    CommandResult r;
    try {
      r = sandboxes.exec(id, command(perspective, timeout));
    } catch (ForkyardException e) {
      return Outcome.failed("exec failed: " + e.getMessage(), secondsSince(t0));
    }
    return parse(perspective, r, timeout, secondsSince(t0));
  }

  static Outcome parse(String perspective, CommandResult r, Duration timeout, double seconds) {
    if (r.timedOut()) {
      return Outcome.failed("timed out after " + timeout.toSeconds() + " s", seconds);
    }
    if (r.exitCode() != 0) {
      String why =
          r.exitCode() < 0 ? "killed by signal " + -r.exitCode() : "exit code " + r.exitCode();
      return Outcome.failed("analysis crashed (" + why + ")" + stderrTail(r), seconds);
    }
    List<String> lines = r.stdout().lines().filter(l -> !l.isBlank()).toList();
    if (lines.size() != 1) {
      return Outcome.failed(
          "expected exactly one JSON line on stdout, got "
              + lines.size()
              + (lines.isEmpty() ? "" : ": " + DebDownloader.tail(String.join(" | ", lines), 200)),
          seconds);
    }
    JsonNode node;
    try {
      node = JSON.readTree(lines.get(0));
    } catch (Exception e) {
      return Outcome.failed(
          "stdout is not JSON: " + DebDownloader.tail(lines.get(0), 200), seconds);
    }
    if (node == null || !node.isObject()) {
      return Outcome.failed(
          "stdout is not a JSON object: " + DebDownloader.tail(lines.get(0), 200), seconds);
    }
    JsonNode score = node.get("score");
    JsonNode finding = node.get("finding");
    JsonNode details = node.get("details");
    JsonNode name = node.get("perspective");
    if (score == null || !score.isIntegralNumber() || score.asInt() < 0 || score.asInt() > 100) {
      return Outcome.failed("result has no integer score between 0 and 100", seconds);
    }
    if (finding == null || !finding.isTextual()) {
      return Outcome.failed("result has no finding text", seconds);
    }
    if (details == null || !details.isObject()) {
      return Outcome.failed("result has no details object", seconds);
    }
    if (name != null && !name.asText().equalsIgnoreCase(perspective)) {
      return Outcome.failed(
          "asked for perspective " + perspective + " but got " + name.asText(), seconds);
    }
    Map<String, Object> map =
        JSON.convertValue(details, new TypeReference<Map<String, Object>>() {});
    return new Outcome(score.asInt(), finding.asText(), map, Optional.empty(), seconds);
  }

  /**
   * The last line of stderr: for a Python crash that is the exception and its message, which a tail
   * of the traceback cut by length could lose.
   */
  private static String stderrTail(CommandResult r) {
    List<String> lines = r.stderr().lines().filter(l -> !l.isBlank()).toList();
    return lines.isEmpty()
        ? ""
        : ": " + DebDownloader.tail(lines.get(lines.size() - 1).strip(), 400);
  }

  static double secondsSince(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }
}
