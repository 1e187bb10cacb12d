package io.forkyard.server;

import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Bearer-token check of every request except health. An empty token means auth is off. */
final class TokenAuth {
  private static final Logger LOG = LoggerFactory.getLogger(TokenAuth.class);
  private static final SecureRandom RANDOM = new SecureRandom();
  static final int MIN_LENGTH = 16;

  private final byte[] expected;

  TokenAuth(String token) {
    this.expected = token.getBytes(StandardCharsets.UTF_8);
  }

  boolean enabled() {
    return expected.length > 0;
  }

  /** Constant-time comparison, so response timing tells nothing about the token. */
  boolean accepts(String authorizationHeader) {
    if (!enabled()) {
      return true;
    }
    if (authorizationHeader == null
        || !authorizationHeader.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    byte[] given = authorizationHeader.substring(7).strip().getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(expected, given);
  }

  static String randomToken() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  static Path tokenFile(Path stateDir) {
    return stateDir.resolve("daemon").resolve("token");
  }

  /**
   * Reads {@code <stateDir>/daemon/token}, creating it (owner-only, 0600, in a 0700 directory) with
   * a fresh random token on first start. A token file others can read is narrowed to 0600.
   */
  static String loadOrCreate(Path stateDir) {
    Path file = tokenFile(stateDir);
    try {
      Path dir = file.getParent();
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(
            dir,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      }
      try {
        Files.createFile(
            file,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        String token = randomToken();
        Files.writeString(file, token + "\n", StandardCharsets.UTF_8);
        LOG.info("auth token created file={}", file);
        return token;
      } catch (FileAlreadyExistsException exists) {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
        if (perms.contains(PosixFilePermission.GROUP_READ)
            || perms.contains(PosixFilePermission.OTHERS_READ)) {
          LOG.warn("auth token file was readable by others; narrowing to 0600 file={}", file);
          Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        }
        String token = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (token.length() < MIN_LENGTH) {
          throw new ForkyardException(
              ErrorCode.INVALID_REQUEST,
              "token file "
                  + file
                  + " holds fewer than "
                  + MIN_LENGTH
                  + " characters; delete it to get a new token");
        }
        return token;
      }
    } catch (IOException e) {
      throw new ForkyardException(
          ErrorCode.INTERNAL, "cannot read or create the token file " + file + ": " + e, e);
    }
  }
}
