package io.forkyard.swarm;

import io.forkyard.api.InvalidRequestException;
import java.util.Locale;

/**
 * One issue the lead ranks among the first to fix.
 *
 * @param severity HIGH, MEDIUM or LOW
 * @param perspective the agent perspective that reported it
 */
public record LeadIssue(String file, int line, String severity, String title, String perspective) {
  public LeadIssue {
    file = file == null ? "" : file;
    severity = severity == null ? "LOW" : severity.toUpperCase(Locale.ROOT);
    if (!severity.equals("HIGH") && !severity.equals("MEDIUM") && !severity.equals("LOW")) {
      throw new InvalidRequestException("severity must be HIGH, MEDIUM or LOW, got " + severity);
    }
    if (line < 0) {
      line = 0;
    }
    title = title == null ? "" : title;
    perspective = perspective == null ? "" : perspective;
  }

  int rank() {
    return switch (severity) {
      case "HIGH" -> 3;
      case "MEDIUM" -> 2;
      default -> 1;
    };
  }
}
