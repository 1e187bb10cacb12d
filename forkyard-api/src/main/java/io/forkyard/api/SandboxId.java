package io.forkyard.api;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** Identity of one sandbox: {@code sb-} followed by 12 lowercase hex digits. */
public record SandboxId(String value) implements Comparable<SandboxId> {
  private static final Pattern FORMAT = Pattern.compile("sb-[0-9a-f]{12}");
  private static final SecureRandom RANDOM = new SecureRandom();

  public SandboxId {
    if (value == null || !FORMAT.matcher(value).matches()) {
      throw new InvalidRequestException(
          "not a sandbox id: '" + value + "' (expected sb- followed by 12 hex digits)");
    }
  }

  public static SandboxId of(String value) {
    return new SandboxId(value);
  }

  public static SandboxId random() {
    byte[] bytes = new byte[6];
    RANDOM.nextBytes(bytes);
    return new SandboxId("sb-" + HexFormat.of().formatHex(bytes));
  }

  @Override
  public int compareTo(SandboxId other) {
    return value.compareTo(other.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
