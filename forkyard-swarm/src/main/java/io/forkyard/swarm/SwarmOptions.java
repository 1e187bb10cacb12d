package io.forkyard.swarm;

import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.Resources;
import io.forkyard.api.SandboxSpec;
import io.forkyard.api.SnapshotId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything a swarm run can be told. Build with {@link #builder()}; unset values take the defaults
 * named on the builder methods.
 *
 * @param agents how many agents (forks) run; perspectives repeat round-robin past their count
 * @param perspectives names, case-insensitive: built-ins or the stems of {@code perspectiveScripts}
 * @param perspectiveScripts user-supplied Python perspective files (see docs/swarm.md)
 * @param target code base to analyse; empty: the bundled sample
 * @param snapshot reuse this base snapshot and skip phase 1
 * @param compare also measure no-snapshot vs FILESYSTEM vs MEMORY forks for the same N
 * @param resultsPath where benchmark_results.json is written
 * @param llmBaseUrl OpenAI-compatible base URL (…/v1); empty: $OPENAI_BASE_URL or OpenAI's
 * @param llmModel model name; empty: $OPENAI_MODEL or {@link #DEFAULT_MODEL}
 * @param llmApiKey API key; empty: $OPENAI_API_KEY
 * @param offlineLead never call an LLM
 * @param agentTimeout limit for one agent's analysis command
 * @param image image the base sandbox boots from
 * @param resources resources of the base sandbox, inherited by every fork
 * @param debCacheDir host directory where downloaded Debian packages are kept between runs
 */
public record SwarmOptions(
    int agents,
    List<String> perspectives,
    List<Path> perspectiveScripts,
    Optional<Path> target,
    Optional<SnapshotId> snapshot,
    boolean compare,
    Path resultsPath,
    Optional<String> llmBaseUrl,
    Optional<String> llmModel,
    Optional<String> llmApiKey,
    boolean offlineLead,
    Duration agentTimeout,
    String image,
    Resources resources,
    Path debCacheDir) {
  public static final int DEFAULT_AGENTS = 5;
  public static final int MAX_AGENTS = 200;
  public static final String DEFAULT_MODEL = "gpt-4o-mini";
  public static final Duration DEFAULT_AGENT_TIMEOUT = Duration.ofSeconds(120);
  public static final Resources DEFAULT_RESOURCES = new Resources(1, 1024, 2048);

  public SwarmOptions {
    if (agents < 1 || agents > MAX_AGENTS) {
      throw new InvalidRequestException(
          "agents must be between 1 and " + MAX_AGENTS + ", got " + agents);
    }
    perspectives =
        List.copyOf(
            perspectives == null || perspectives.isEmpty() ? Perspectives.BUILTIN : perspectives);
    perspectiveScripts = List.copyOf(perspectiveScripts == null ? List.of() : perspectiveScripts);
    target = target == null ? Optional.empty() : target;
    snapshot = snapshot == null ? Optional.empty() : snapshot;
    resultsPath = resultsPath == null ? Path.of("benchmark_results.json") : resultsPath;
    llmBaseUrl = blankToEmpty(llmBaseUrl);
    llmModel = blankToEmpty(llmModel);
    llmApiKey = blankToEmpty(llmApiKey);
    agentTimeout = agentTimeout == null ? DEFAULT_AGENT_TIMEOUT : agentTimeout;
    if (agentTimeout.isNegative() || agentTimeout.isZero()) {
      throw new InvalidRequestException("agent timeout must be positive, got " + agentTimeout);
    }
    image = image == null || image.isBlank() ? SandboxSpec.DEFAULT_IMAGE : image;
    resources = resources == null ? DEFAULT_RESOURCES : resources;
    debCacheDir = debCacheDir == null ? defaultDebCache() : debCacheDir;
  }

  private static Optional<String> blankToEmpty(Optional<String> value) {
    return value == null ? Optional.empty() : value.filter(s -> !s.isBlank());
  }

  /** $XDG_CACHE_HOME/forkyard/debs, else ~/.cache/forkyard/debs. */
  public static Path defaultDebCache() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base =
        xdg != null && !xdg.isBlank()
            ? Path.of(xdg)
            : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("forkyard").resolve("debs");
  }

  public static SwarmOptions defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.agents = agents;
    b.perspectives.addAll(perspectives);
    b.perspectiveScripts.addAll(perspectiveScripts);
    b.target = target.orElse(null);
    b.snapshot = snapshot.orElse(null);
    b.compare = compare;
    b.resultsPath = resultsPath;
    b.llmBaseUrl = llmBaseUrl.orElse(null);
    b.llmModel = llmModel.orElse(null);
    b.llmApiKey = llmApiKey.orElse(null);
    b.offlineLead = offlineLead;
    b.agentTimeout = agentTimeout;
    b.image = image;
    b.resources = resources;
    b.debCacheDir = debCacheDir;
    return b;
  }

  public static final class Builder {
    private int agents = DEFAULT_AGENTS;
    private final List<String> perspectives = new ArrayList<>();
    private final List<Path> perspectiveScripts = new ArrayList<>();
    private Path target;
    private SnapshotId snapshot;
    private boolean compare;
    private Path resultsPath;
    private String llmBaseUrl;
    private String llmModel;
    private String llmApiKey;
    private boolean offlineLead;
    private Duration agentTimeout;
    private String image;
    private Resources resources;
    private Path debCacheDir;

    private Builder() {}

    /** Default 5. */
    public Builder agents(int n) {
      this.agents = n;
      return this;
    }

    /** Default: security, complexity, docstrings, tests, structure. */
    public Builder perspectives(List<String> names) {
      perspectives.clear();
      perspectives.addAll(names);
      return this;
    }

    public Builder perspectiveScript(Path script) {
      perspectiveScripts.add(Objects.requireNonNull(script));
      return this;
    }

    public Builder perspectiveScripts(List<Path> scripts) {
      perspectiveScripts.addAll(scripts);
      return this;
    }

    /** Default: the bundled sample. */
    public Builder target(Path dir) {
      this.target = dir;
      return this;
    }

    public Builder snapshot(SnapshotId id) {
      this.snapshot = id;
      return this;
    }

    public Builder compare(boolean on) {
      this.compare = on;
      return this;
    }

    /** Default ./benchmark_results.json. */
    public Builder resultsPath(Path path) {
      this.resultsPath = path;
      return this;
    }

    public Builder llmBaseUrl(String url) {
      this.llmBaseUrl = url;
      return this;
    }

    public Builder llmModel(String model) {
      this.llmModel = model;
      return this;
    }

    public Builder llmApiKey(String key) {
      this.llmApiKey = key;
      return this;
    }

    public Builder offlineLead(boolean offline) {
      this.offlineLead = offline;
      return this;
    }

    /** Default 120 s. */
    public Builder agentTimeout(Duration timeout) {
      this.agentTimeout = timeout;
      return this;
    }

    /** Default "python". */
    public Builder image(String name) {
      this.image = name;
      return this;
    }

    /** Default 1 cpu, 1024 MiB, 2048 MiB disk. */
    public Builder resources(Resources r) {
      this.resources = r;
      return this;
    }

    public Builder debCacheDir(Path dir) {
      this.debCacheDir = dir;
      return this;
    }

    public SwarmOptions build() {
      return new SwarmOptions(
          agents,
          perspectives,
          perspectiveScripts,
          Optional.ofNullable(target),
          Optional.ofNullable(snapshot),
          compare,
          resultsPath,
          Optional.ofNullable(llmBaseUrl),
          Optional.ofNullable(llmModel),
          Optional.ofNullable(llmApiKey),
          offlineLead,
          agentTimeout,
          image,
          resources,
          debCacheDir);
    }
  }
}
