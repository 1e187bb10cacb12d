package io.forkyard.core;

import io.forkyard.api.InvalidRequestException;

/**
 * Validates paths that users give for files inside a sandbox. File operations run inside the
 * sandbox, so a path can never name a host file; still, {@code ..} segments are refused outright so
 * that a path means what it says. Public for the test fake of the SDK, which must refuse what the
 * service refuses.
 */
public final class SandboxPaths {
  static final int MAX_LENGTH = 4096;

  private SandboxPaths() {}

  /** The normalized absolute path; refuses empty, over-long, relative, NUL and {@code ..}. */
  public static String check(String path) {
    if (path == null || path.isEmpty()) {
      throw new InvalidRequestException("a sandbox path is required");
    }
    if (path.length() > MAX_LENGTH) {
      throw new InvalidRequestException("sandbox path longer than " + MAX_LENGTH + " characters");
    }
    if (path.indexOf('\0') >= 0) {
      throw new InvalidRequestException("sandbox path must not contain NUL");
    }
    if (!path.startsWith("/")) {
      throw new InvalidRequestException(
          "sandbox path must be absolute (start with /), got '" + path + "'");
    }
    StringBuilder out = new StringBuilder();
    for (String part : path.split("/")) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        throw new InvalidRequestException(
            "sandbox path must not contain '..' segments, got '" + path + "'");
      }
      out.append('/').append(part);
    }
    return out.isEmpty() ? "/" : out.toString();
  }
}
