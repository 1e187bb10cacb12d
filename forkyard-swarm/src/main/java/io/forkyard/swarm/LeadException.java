package io.forkyard.swarm;

/** The lead could not produce a verdict; the message says why and what to check. */
public class LeadException extends RuntimeException {
  public LeadException(String message) {
    super(message);
  }

  public LeadException(String message, Throwable cause) {
    super(message, cause);
  }
}
