package io.forkyard.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.forkyard.api.CheckpointOptions;
import io.forkyard.api.Command;
import io.forkyard.api.CommandResult;
import io.forkyard.api.ForkResult;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.ImageRecipe;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.NetworkPolicy;
import io.forkyard.api.ProgressListener;
import io.forkyard.api.Sandbox;
import io.forkyard.api.SandboxId;
import io.forkyard.api.SandboxSpec;
import io.forkyard.api.Sandboxes;
import io.forkyard.api.SnapshotId;
import io.forkyard.api.SnapshotInfo;
import io.forkyard.api.SnapshotType;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * {@code forkyard bench fork}: what a fork costs compared with a cold start, measured side by side.
 * Every round runs each scenario once, in an order rotated from round to round, so a noisy
 * neighbour slows all scenarios alike instead of one block of them. Timings are wall clock around
 * SDK calls only; memory is read from the host's /proc (see {@link HostMemory}).
 *
 * <p>Everything the benchmark creates is terminated or deleted before {@link #run} returns, on
 * failure too, and by a shutdown hook on Ctrl-C.
 */
public final class ForkBench {
  public static final String COLD = "cold_create_first_command_ms";
  public static final String MEMORY_FORK = "memory_fork_first_command_ms";
  public static final String FILESYSTEM_FORK = "filesystem_fork_first_command_ms";
  public static final String CHECKPOINT = "checkpoint_ms";
  public static final String COLD_INTERNET = "cold_create_internet_first_command_ms";
  public static final String MEMORY_FORK_INTERNET = "memory_fork_internet_first_command_ms";
  public static final String MEMORY_PER_FORK = "memory_per_fork_mib";
  public static final List<Integer> BATCHES = List.of(1, 5, 20);

  /** The issue's targets on a 2-core machine: p50 at most this. */
  static final Map<String, Double> TARGETS =
      Map.of(MEMORY_FORK, 150.0, batchKey(20), 3000.0, CHECKPOINT, 150.0);

  static final String MEMORY_METHOD_PSS =
      "sum of Pss (/proc/PID/smaps_rollup) over host processes whose command line contains a"
          + " fork's sandbox id, for the idle forks of the largest batch, divided by their count";
  static final String MEMORY_METHOD_AVAILABLE =
      "drop of MemAvailable (/proc/meminfo) from before the largest batch fork to after it"
          + " (idle forks, 1 s settle), divided by the fork count; noisy on a shared machine";

  private static final Command FIRST_COMMAND = Command.of("/bin/true");

  /**
   * @param runs measured rounds (each scenario once per round)
   * @param warmup unrecorded rounds first (JIT, page cache)
   * @param image the image cold starts and the base boot from
   */
  public record Options(int runs, int warmup, String image) {
    public Options {
      if (runs < 1 || runs > 1000) {
        throw new InvalidRequestException("--runs must be between 1 and 1000, got " + runs);
      }
      if (warmup < 0 || warmup > 100) {
        throw new InvalidRequestException("--warmup must be between 0 and 100, got " + warmup);
      }
      image = image == null || image.isBlank() ? SandboxSpec.DEFAULT_IMAGE : image;
    }
  }

  private final Sandboxes sandboxes;
  private final Options options;
  private final PrintStream log;
  private final Map<String, Stats> stats = new LinkedHashMap<>();
  private final List<String> errors = new ArrayList<>();
  private final Set<SandboxId> live = ConcurrentHashMap.newKeySet();
  private final Set<SnapshotId> snapshots = ConcurrentHashMap.newKeySet();
  private String memoryMethod = MEMORY_METHOD_PSS;
  private String runtime = "unknown";

  private ForkBench(Sandboxes sandboxes, Options options, PrintStream log) {
    this.sandboxes = sandboxes;
    this.options = options;
    this.log = log;
    for (String key : List.of(COLD, MEMORY_FORK, FILESYSTEM_FORK, CHECKPOINT)) {
      stats.put(key, new Stats());
    }
    stats.put(COLD_INTERNET, new Stats());
    stats.put(MEMORY_FORK_INTERNET, new Stats());
    for (int n : BATCHES) {
      stats.put(batchKey(n), new Stats());
    }
    stats.put(MEMORY_PER_FORK, new Stats());
  }

  static String batchKey(int n) {
    return "batch_fork_" + n + "_wall_ms";
  }

  /**
   * Runs the benchmark and returns its report (the JSON document as maps and lists). Progress goes
   * to {@code log}. Scenario failures are recorded under {@code errors}; a failure to set up the
   * base sandbox is thrown.
   */
  public static Map<String, Object> run(Sandboxes sandboxes, Options options, PrintStream log) {
    return new ForkBench(sandboxes, options, log).run();
  }

  private Map<String, Object> run() {
    Instant started = Instant.now();
    Thread hook = new Thread(this::cleanUp, "forkyard-bench-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      prepareImage();
      log.println("bench: starting the base sandbox (" + options.image() + ")");
      Sandbox base = track(sandboxes.create(SandboxSpec.ofImage(options.image())));
      runtime = base.info().runtime();
      requireOk(base.run(Command.shell("echo forkyard-bench > /tmp/bench-marker")), "base setup");
      SnapshotInfo fs =
          sandboxes.checkpoint(base.id(), CheckpointOptions.of(SnapshotType.FILESYSTEM));
      snapshots.add(fs.id());
      Optional<SandboxId> netBase = internetBase();
      int rounds = options.warmup() + options.runs();
      for (int r = 0; r < rounds; r++) {
        boolean record = r >= options.warmup();
        log.println(
            record
                ? "bench: round " + (r - options.warmup() + 1) + "/" + options.runs()
                : "bench: warm-up round " + (r + 1) + "/" + options.warmup());
        round(r, record, base.id(), fs.id(), netBase);
      }
    } finally {
      cleanUp();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or has run: cleanUp is idempotent
      }
    }
    return report(started);
  }

  private void prepareImage() {
    boolean built = sandboxes.images().stream().anyMatch(i -> i.name().equals(options.image()));
    if (!built && options.image().equals(ImageRecipe.python().name())) {
      log.println("bench: building the default image first (debootstrap, about a minute)");
      sandboxes.buildImage(ImageRecipe.python(), ProgressListener.NONE);
    }
  }

  /**
   * A second base with internet access, for the cost of networking in cold starts and forks; empty
   * (and an error recorded) where the runtime cannot give one.
   */
  private Optional<SandboxId> internetBase() {
    try {
      log.println("bench: starting a base sandbox with internet access");
      Sandbox b =
          track(
              sandboxes.create(
                  SandboxSpec.builder()
                      .image(options.image())
                      .network(NetworkPolicy.INTERNET)
                      .build()));
      return Optional.of(b.id());
    } catch (ForkyardException e) {
      error(COLD_INTERNET + ", " + MEMORY_FORK_INTERNET, e);
      return Optional.empty();
    }
  }

  /** One sample of every scenario; the order rotates with {@code r}. */
  private void round(
      int r, boolean record, SandboxId base, SnapshotId fs, Optional<SandboxId> netBase) {
    SnapshotInfo mem;
    long t0 = System.nanoTime();
    try {
      mem = sandboxes.checkpoint(base, CheckpointOptions.MEMORY);
    } catch (ForkyardException e) {
      error("checkpoint", e);
      return;
    }
    snapshots.add(mem.id());
    sample(record, CHECKPOINT, ms(t0));
    List<Scenario> order = new ArrayList<>();
    order.add(
        new Scenario(COLD, () -> firstCommand(COLD, SandboxSpec.ofImage(options.image()), record)));
    order.add(
        new Scenario(
            MEMORY_FORK,
            () -> firstCommand(MEMORY_FORK, SandboxSpec.ofSnapshot(mem.id()), record)));
    order.add(
        new Scenario(
            FILESYSTEM_FORK,
            () -> firstCommand(FILESYSTEM_FORK, SandboxSpec.ofSnapshot(fs), record)));
    for (int n : BATCHES) {
      order.add(new Scenario(batchKey(n), () -> batch(n, mem.id(), record)));
    }
    Optional<SnapshotId> memNet = Optional.empty();
    if (netBase.isPresent()) {
      try {
        SnapshotInfo snap = sandboxes.checkpoint(netBase.get(), CheckpointOptions.MEMORY);
        snapshots.add(snap.id());
        memNet = Optional.of(snap.id());
      } catch (ForkyardException e) {
        error(MEMORY_FORK_INTERNET, e);
      }
      SandboxSpec cold =
          SandboxSpec.builder().image(options.image()).network(NetworkPolicy.INTERNET).build();
      order.add(new Scenario(COLD_INTERNET, () -> firstCommand(COLD_INTERNET, cold, record)));
    }
    memNet.ifPresent(
        id ->
            order.add(
                new Scenario(
                    MEMORY_FORK_INTERNET,
                    () -> firstCommand(MEMORY_FORK_INTERNET, SandboxSpec.ofSnapshot(id), record))));
    java.util.Collections.rotate(order, -(r % order.size()));
    for (Scenario s : order) {
      try {
        s.body().run();
      } catch (ForkyardException e) {
        error(s.key(), e);
      }
    }
    deleteSnapshot(mem.id());
    memNet.ifPresent(this::deleteSnapshot);
  }

  private record Scenario(String key, Runnable body) {}

  private void firstCommand(String key, SandboxSpec spec, boolean record) {
    long t0 = System.nanoTime();
    Sandbox sb = track(sandboxes.create(spec));
    try {
      requireOk(sb.run(FIRST_COMMAND), key);
      sample(record, key, ms(t0));
    } finally {
      terminate(List.of(sb.id()));
    }
  }

  private void batch(int n, SnapshotId snapshot, boolean record) {
    boolean measureMemory = n == BATCHES.get(BATCHES.size() - 1);
    OptionalLong availableBefore = measureMemory ? HostMemory.availableKib() : OptionalLong.empty();
    long t0 = System.nanoTime();
    List<ForkResult> results = sandboxes.fork(snapshot, n);
    double wall = ms(t0);
    List<SandboxId> ids = new ArrayList<>();
    int failed = 0;
    for (ForkResult res : results) {
      if (res.ok()) {
        SandboxId id = res.sandbox().orElseThrow().id();
        live.add(id);
        ids.add(id);
      } else {
        failed++;
        if (failed == 1) {
          errors.add(batchKey(n) + ": fork #" + res.index() + ": " + res.errorMessage());
        }
      }
    }
    try {
      if (failed > 0) {
        errors.add(batchKey(n) + ": " + failed + " of " + n + " forks failed; sample dropped");
        log.println("bench: " + batchKey(n) + ": " + failed + " of " + n + " forks failed");
        return;
      }
      sample(record, batchKey(n), wall);
      if (measureMemory && record) {
        measureMemory(ids, availableBefore);
      }
    } finally {
      terminate(ids);
    }
  }

  private void measureMemory(List<SandboxId> ids, OptionalLong availableBefore) {
    sleep(Duration.ofSeconds(1)); // let restored pages settle: idle forks, not restoring ones
    OptionalLong pss = HostMemory.pssKib(ids.stream().map(SandboxId::value).toList());
    if (pss.isPresent()) {
      memoryMethod = MEMORY_METHOD_PSS;
      stats.get(MEMORY_PER_FORK).add(pss.getAsLong() / 1024.0 / ids.size());
      return;
    }
    OptionalLong after = HostMemory.availableKib();
    if (availableBefore.isPresent() && after.isPresent()) {
      memoryMethod = MEMORY_METHOD_AVAILABLE;
      long drop = Math.max(0, availableBefore.getAsLong() - after.getAsLong());
      stats.get(MEMORY_PER_FORK).add(drop / 1024.0 / ids.size());
    }
  }

  private Sandbox track(Sandbox sb) {
    live.add(sb.id());
    return sb;
  }

  private void sample(boolean record, String key, double value) {
    if (record) {
      stats.get(key).add(value);
    }
  }

  private void error(String scenario, ForkyardException e) {
    String line = scenario + ": " + e.code() + ": " + e.getMessage();
    errors.add(line);
    log.println("bench: " + line);
  }

  private static void requireOk(CommandResult result, String what) {
    if (!result.succeeded()) {
      throw new ForkyardException(
          io.forkyard.api.ErrorCode.INTERNAL,
          what
              + ": first command failed with exit code "
              + result.exitCode()
              + ": "
              + result.stderr().strip());
    }
  }

  /** Terminates sandboxes in parallel; one that is already gone is fine. */
  private void terminate(List<SandboxId> ids) {
    if (ids.isEmpty()) {
      return;
    }
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (SandboxId id : ids) {
        pool.submit(
            () -> {
              try {
                sandboxes.terminate(id);
              } catch (ForkyardException e) {
                if (e.code() != io.forkyard.api.ErrorCode.NOT_FOUND
                    && e.code() != io.forkyard.api.ErrorCode.INVALID_STATE) {
                  log.println("bench: could not terminate " + id + ": " + e.getMessage());
                }
              }
              live.remove(id);
            });
      }
    }
  }

  private void deleteSnapshot(SnapshotId id) {
    try {
      sandboxes.deleteSnapshot(id);
    } catch (ForkyardException e) {
      if (e.code() != io.forkyard.api.ErrorCode.NOT_FOUND) {
        log.println("bench: could not delete snapshot " + id + ": " + e.getMessage());
      }
    }
    snapshots.remove(id);
  }

  private synchronized void cleanUp() {
    terminate(List.copyOf(live));
    for (SnapshotId id : List.copyOf(snapshots)) {
      deleteSnapshot(id);
    }
  }

  private Map<String, Object> report(Instant started) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("benchmark", "fork");
    r.put("started_at", started.toString());
    r.put("finished_at", Instant.now().toString());
    r.put("runtime", runtime);
    r.put("image", options.image());
    r.put("runs", options.runs());
    r.put("warmup_runs", options.warmup());
    r.put("versions", versions());
    r.put("machine", machine());
    r.put(
        "method",
        Map.of(
            "timing",
            "wall clock (System.nanoTime) around Sandboxes SDK calls; 'first command' is create"
                + " (or fork) until /bin/true has returned; batch = one fork(snapshot, n) call;"
                + " scenario order rotated every round",
            "memory",
            memoryMethod,
            "percentiles",
            "nearest rank"));
    for (var e : stats.entrySet()) {
      r.put(e.getKey(), e.getValue().toJson());
    }
    Map<String, Object> targets = new LinkedHashMap<>();
    for (var t : TARGETS.entrySet()) {
      Stats s = stats.get(t.getKey());
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("p50_at_most", t.getValue());
      m.put("met", s.n() > 0 && s.percentile(50) <= t.getValue());
      targets.put(t.getKey(), m);
    }
    r.put("targets", targets);
    r.put("errors", List.copyOf(errors));
    return r;
  }

  static Map<String, Object> versions() {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("forkyard", "0.1.0");
    v.put("java", System.getProperty("java.version"));
    v.put("runsc", runscVersion());
    v.put("kernel", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    return v;
  }

  static Map<String, Object> machine() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cores", Runtime.getRuntime().availableProcessors());
    OptionalLong total = HostMemory.totalKib();
    m.put("memory_mib", total.isPresent() ? total.getAsLong() / 1024 : null);
    m.put("arch", System.getProperty("os.arch"));
    try {
      m.put("load_average_1m", Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    } catch (IOException | RuntimeException e) {
      m.put("load_average_1m", null);
    }
    return m;
  }

  private static String runscVersion() {
    try {
      Process p =
          new ProcessBuilder("runsc", "--version")
              .redirectErrorStream(true)
              .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(5, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return "unknown";
      }
      return out.lines().findFirst().orElse("unknown").strip();
    } catch (IOException e) {
      return "not found";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }

  private static double ms(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000.0;
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---- output

  public static void writeJson(Map<String, Object> report, Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), report);
  }

  /** The readable table: one line per scenario, milliseconds unless the key says MiB. */
  @SuppressWarnings("unchecked")
  public static void printTable(Map<String, Object> report, PrintStream out) {
    Map<String, Object> machine = (Map<String, Object>) report.get("machine");
    out.printf(
        "forkyard bench fork: runtime %s, image %s, %s runs (+%s warm-up), %s cores, %s MiB%n",
        report.get("runtime"),
        report.get("image"),
        report.get("runs"),
        report.get("warmup_runs"),
        machine.get("cores"),
        machine.get("memory_mib"));
    out.printf(
        "%-38s %9s %9s %9s %9s %4s  %s%n", "scenario", "p50", "p95", "min", "max", "n", "target");
    for (String key : scenarioKeys()) {
      Map<String, Object> s = (Map<String, Object>) report.get(key);
      String target = "";
      if (TARGETS.containsKey(key)) {
        Map<String, Object> t =
            (Map<String, Object>) ((Map<String, Object>) report.get("targets")).get(key);
        target =
            "p50 <= "
                + TARGETS.get(key).intValue()
                + (Boolean.TRUE.equals(t.get("met")) ? " met" : " MISSED");
      }
      out.printf(
          "%-38s %9s %9s %9s %9s %4s  %s%n",
          key,
          num(s.get("p50")),
          num(s.get("p95")),
          num(s.get("min")),
          num(s.get("max")),
          s.get("n"),
          target);
    }
    out.println("memory: " + ((Map<String, Object>) report.get("method")).get("memory"));
    List<String> errors = (List<String>) report.get("errors");
    if (!errors.isEmpty()) {
      out.println("errors (" + errors.size() + "):");
      errors.forEach(e -> out.println("  " + e));
    }
  }

  static List<String> scenarioKeys() {
    List<String> keys = new ArrayList<>(List.of(COLD, MEMORY_FORK, FILESYSTEM_FORK, CHECKPOINT));
    BATCHES.forEach(n -> keys.add(batchKey(n)));
    keys.add(MEMORY_PER_FORK);
    keys.add(COLD_INTERNET);
    keys.add(MEMORY_FORK_INTERNET);
    return keys;
  }

  private static String num(Object v) {
    return v == null ? "-" : String.format("%.1f", ((Number) v).doubleValue());
  }
}
