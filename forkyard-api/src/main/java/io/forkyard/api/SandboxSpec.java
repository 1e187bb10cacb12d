package io.forkyard.api;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How to make a sandbox: from an image, or as a fork of a snapshot. Unset values take defaults
 * (from an image) or are inherited (from a snapshot). For a MEMORY snapshot, setting resources is
 * an error: they are fixed at checkpoint time. Network policy may always be set.
 */
public final class SandboxSpec {
  public static final String DEFAULT_IMAGE = "python";
  public static final long DEFAULT_TIMEOUT_SECS = 3600;
  public static final long MAX_TIMEOUT_SECS = 7 * 24 * 3600;
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

  private final String image;
  private final SnapshotId snapshot;
  private final Resources resources;
  private final long timeoutSecs;
  private final String name;
  private final Map<String, String> labels;
  private final NetworkPolicy network;
  private final Map<String, String> env;

  private SandboxSpec(Builder b) {
    if (b.image != null && b.snapshot != null) {
      throw new InvalidRequestException("give either an image or a snapshot id, not both");
    }
    if (b.image != null && !NAME.matcher(b.image).matches()) {
      throw new InvalidRequestException("not an image name: '" + b.image + "'");
    }
    if (b.name != null && !NAME.matcher(b.name).matches()) {
      throw new InvalidRequestException(
          "sandbox name must be 1-63 letters, digits, '.', '_' or '-', got '" + b.name + "'");
    }
    if (b.timeoutSecs < 0 || b.timeoutSecs > MAX_TIMEOUT_SECS) {
      throw new InvalidRequestException(
          "timeoutSecs must be between 1 and "
              + MAX_TIMEOUT_SECS
              + " (0: default), got "
              + b.timeoutSecs);
    }
    for (String key : b.labels.keySet()) {
      if (!NAME.matcher(key).matches()) {
        throw new InvalidRequestException("bad label key: '" + key + "'");
      }
    }
    for (var e : b.env.entrySet()) {
      if (e.getKey().isEmpty()
          || e.getKey().indexOf('=') >= 0
          || e.getKey().indexOf('\0') >= 0
          || e.getValue().indexOf('\0') >= 0) {
        throw new InvalidRequestException("bad environment variable: '" + e.getKey() + "'");
      }
    }
    this.image = b.image;
    this.snapshot = b.snapshot;
    this.resources = b.resources;
    this.timeoutSecs = b.timeoutSecs;
    this.name = b.name;
    this.labels = Map.copyOf(b.labels);
    this.network = b.network;
    this.env = Map.copyOf(b.env);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A sandbox from the default image with default settings. */
  public static SandboxSpec defaults() {
    return builder().build();
  }

  public static SandboxSpec ofImage(String image) {
    return builder().image(image).build();
  }

  public static SandboxSpec ofSnapshot(SnapshotId snapshot) {
    return builder().snapshot(snapshot).build();
  }

  /**
   * The image to boot; empty for a fork (then the snapshot decides) — see {@link
   * #imageOrDefault()}.
   */
  public Optional<String> image() {
    return Optional.ofNullable(image);
  }

  public String imageOrDefault() {
    return image == null ? DEFAULT_IMAGE : image;
  }

  public Optional<SnapshotId> snapshot() {
    return Optional.ofNullable(snapshot);
  }

  public Optional<Resources> resources() {
    return Optional.ofNullable(resources);
  }

  /** Seconds after creation when the sandbox is terminated and marked TIMED_OUT; 0: default. */
  public long timeoutSecs() {
    return timeoutSecs;
  }

  public long timeoutSecsOrDefault() {
    return timeoutSecs == 0 ? DEFAULT_TIMEOUT_SECS : timeoutSecs;
  }

  public Optional<String> name() {
    return Optional.ofNullable(name);
  }

  public Map<String, String> labels() {
    return labels;
  }

  public Optional<NetworkPolicy> network() {
    return Optional.ofNullable(network);
  }

  public Map<String, String> env() {
    return env;
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.image = image;
    b.snapshot = snapshot;
    b.resources = resources;
    b.timeoutSecs = timeoutSecs;
    b.name = name;
    b.labels.putAll(labels);
    b.network = network;
    b.env.putAll(env);
    return b;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SandboxSpec s
        && Objects.equals(image, s.image)
        && Objects.equals(snapshot, s.snapshot)
        && Objects.equals(resources, s.resources)
        && timeoutSecs == s.timeoutSecs
        && Objects.equals(name, s.name)
        && labels.equals(s.labels)
        && Objects.equals(network, s.network)
        && env.equals(s.env);
  }

  @Override
  public int hashCode() {
    return Objects.hash(image, snapshot, resources, timeoutSecs, name, labels, network, env);
  }

  @Override
  public String toString() {
    return "SandboxSpec[image="
        + image
        + ", snapshot="
        + snapshot
        + ", resources="
        + resources
        + ", timeoutSecs="
        + timeoutSecs
        + ", name="
        + name
        + ", labels="
        + labels
        + ", network="
        + network
        + ", env="
        + env.keySet()
        + "]";
  }

  public static final class Builder {
    private String image;
    private SnapshotId snapshot;
    private Resources resources;
    private long timeoutSecs;
    private String name;
    private final Map<String, String> labels = new LinkedHashMap<>();
    private NetworkPolicy network;
    private final Map<String, String> env = new LinkedHashMap<>();

    private Builder() {}

    public Builder image(String image) {
      this.image = image;
      return this;
    }

    public Builder snapshot(SnapshotId snapshot) {
      this.snapshot = snapshot;
      return this;
    }

    public Builder resources(Resources resources) {
      this.resources = resources;
      return this;
    }

    public Builder timeoutSecs(long timeoutSecs) {
      this.timeoutSecs = timeoutSecs;
      return this;
    }

    public Builder name(String name) {
      this.name = name;
      return this;
    }

    public Builder label(String key, String value) {
      labels.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
      return this;
    }

    public Builder labels(Map<String, String> all) {
      labels.putAll(all);
      return this;
    }

    public Builder network(NetworkPolicy network) {
      this.network = network;
      return this;
    }

    public Builder env(String key, String value) {
      env.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
      return this;
    }

    public Builder env(Map<String, String> all) {
      env.putAll(all);
      return this;
    }

    public SandboxSpec build() {
      return new SandboxSpec(this);
    }
  }
}
