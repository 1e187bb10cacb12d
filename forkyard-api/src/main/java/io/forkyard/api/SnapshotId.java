package io.forkyard.api;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** Identity of one snapshot: {@code snap-} followed by 12 lowercase hex digits. */
public record SnapshotId(String value) implements Comparable<SnapshotId> {
  private static final Pattern FORMAT = Pattern.compile("snap-[0-9a-f]{12}");
  private static final SecureRandom RANDOM = new SecureRandom();

  public SnapshotId {
    if (value == null || !FORMAT.matcher(value).matches()) {
      throw new InvalidRequestException(
          "not a snapshot id: '" + value + "' (expected snap- followed by 12 hex digits)");
    }
  }

  public static SnapshotId of(String value) {
    return new SnapshotId(value);
  }

  public static SnapshotId random() {
    byte[] bytes = new byte[6];
    RANDOM.nextBytes(bytes);
    return new SnapshotId("snap-" + HexFormat.of().formatHex(bytes));
  }

  @Override
  public int compareTo(SnapshotId other) {
    return value.compareTo(other.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
