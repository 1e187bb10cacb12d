package io.forkyard.bench;

import io.forkyard.api.CheckpointOptions;
import io.forkyard.api.Command;
import io.forkyard.api.CommandResult;
import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkResult;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.SandboxId;
import io.forkyard.api.SandboxInfo;
import io.forkyard.api.SandboxSpec;
import io.forkyard.api.Sandboxes;
import io.forkyard.api.SnapshotId;
import io.forkyard.api.SnapshotInfo;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * {@code forkyard bench load}: many concurrent clients of one daemon, each with its own SDK
 * connection, each running iterations of create → exec → fork (from one shared MEMORY snapshot) →
 * exec in the fork → terminate both. Bounded in count (clients × iterations) and in time (no
 * iteration starts after the deadline; operations still running {@link #HARD_STOP_GRACE} later are
 * interrupted). Reports per-operation latency percentiles, throughput, failures and leaked
 * sandboxes; it measures, it never asserts.
 *
 * <p>Every sandbox it makes carries the label {@code forkyard-bench=<run id>} and a TTL a little
 * past the deadline, so a leak is found by label (even one whose create answer was lost) and dies
 * on its own. Everything is terminated or deleted before {@link #run} returns, on failure too.
 */
public final class LoadBench {
  public static final String CREATE = "create";
  public static final String EXEC = "exec";
  public static final String FORK = "fork";
  public static final String TERMINATE = "terminate";
  public static final List<String> OPERATIONS = List.of(CREATE, EXEC, FORK, TERMINATE);
  public static final int MAX_CLIENTS = 200;
  public static final int MAX_ITERATIONS = 1000;
  public static final String LABEL = "forkyard-bench";

  static final Duration HARD_STOP_GRACE = Duration.ofSeconds(60);
  private static final String MARKER_PATH = "/tmp/forkyard-load-marker";
  private static final int MAX_ERROR_LINES = 50;

  /**
   * @param clients concurrent clients, each with its own connection (1..200)
   * @param iterations iterations per client (1..1000)
   * @param deadline no iteration starts after this much time from the clients' start
   * @param image the image sandboxes are created from
   * @param target where the daemon is, for the report (e.g. its URL)
   */
  public record Options(
      int clients, int iterations, Duration deadline, String image, String target) {
    public Options {
      if (clients < 1 || clients > MAX_CLIENTS) {
        throw new InvalidRequestException(
            "--clients must be between 1 and " + MAX_CLIENTS + ", got " + clients);
      }
      if (iterations < 1 || iterations > MAX_ITERATIONS) {
        throw new InvalidRequestException(
            "--iterations must be between 1 and " + MAX_ITERATIONS + ", got " + iterations);
      }
      if (deadline == null || deadline.isNegative() || deadline.toSeconds() < 1) {
        throw new InvalidRequestException("--deadline-secs must be at least 1");
      }
      if (deadline.compareTo(Duration.ofHours(1)) > 0) {
        throw new InvalidRequestException("--deadline-secs must be at most 3600");
      }
      image = image == null || image.isBlank() ? SandboxSpec.DEFAULT_IMAGE : image;
      target = target == null ? "" : target;
    }
  }

  private final Sandboxes admin;
  private final IntFunction<Sandboxes> clientFactory;
  private final Options options;
  private final PrintStream log;
  private final String runId;
  private final Map<String, Stats> latency = new LinkedHashMap<>();
  private final Map<String, AtomicInteger> failures = new LinkedHashMap<>();
  private final Map<String, AtomicInteger> failuresByCode = new ConcurrentHashMap<>();
  private final List<String> errors = new ArrayList<>();
  private final AtomicLong okOps = new AtomicLong();
  private final AtomicInteger completed = new AtomicInteger();
  private final AtomicInteger failed = new AtomicInteger();
  private final AtomicInteger skipped = new AtomicInteger();
  private final Map<String, Object> setup = new LinkedHashMap<>();
  private SnapshotId snapshot;
  private volatile long deadlineNanos = Long.MAX_VALUE;
  private String runtime = "unknown";
  private List<String> leaked = List.of();
  private boolean cleaned;

  private LoadBench(
      Sandboxes admin, IntFunction<Sandboxes> clientFactory, Options options, PrintStream log) {
    this.admin = admin;
    this.clientFactory = clientFactory;
    this.options = options;
    this.log = log;
    byte[] id = new byte[4];
    ThreadLocalRandom.current().nextBytes(id);
    this.runId = "load-" + HexFormat.of().formatHex(id);
    for (String op : OPERATIONS) {
      latency.put(op, new Stats());
      failures.put(op, new AtomicInteger());
    }
  }

  /**
   * Runs the load and returns the report (the JSON document as maps and lists).
   *
   * @param admin a client used for setup, the leak check and cleanup
   * @param clientFactory makes client number {@code i}; each is used by one thread and then closed
   */
  public static Map<String, Object> run(
      Sandboxes admin, IntFunction<Sandboxes> clientFactory, Options options, PrintStream log) {
    return new LoadBench(admin, clientFactory, options, log).run();
  }

  private Map<String, Object> run() {
    Instant started = Instant.now();
    Thread hook = new Thread(this::cleanUp, "forkyard-load-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    double wallMs;
    try {
      prepareSnapshot();
      wallMs = runClients();
      findLeaks();
    } finally {
      cleanUp();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or has run: cleanUp is idempotent
      }
    }
    return report(started, wallMs);
  }

  private SandboxSpec.Builder spec() {
    long ttl = options.deadline().plus(HARD_STOP_GRACE).toSeconds() + 300;
    return SandboxSpec.builder().timeoutSecs(ttl).label(LABEL, runId);
  }

  /** The base every fork comes from: a file written before a MEMORY checkpoint that stops it. */
  private void prepareSnapshot() {
    log.println("bench: preparing the shared snapshot (" + options.image() + ")");
    long t0 = System.nanoTime();
    SandboxId base = admin.create(spec().image(options.image()).build()).id();
    setup.put("base_create_ms", Stats.round(ms(t0)));
    SandboxInfo info = admin.info(base);
    runtime = info.runtime();
    CommandResult r = admin.exec(base, Command.shell("echo " + runId + " > " + MARKER_PATH));
    if (!r.succeeded()) {
      throw new ForkyardException(
          ErrorCode.INTERNAL, "writing the marker in the base failed: " + r.stderr().strip());
    }
    long t1 = System.nanoTime();
    SnapshotInfo snap = admin.checkpoint(base, CheckpointOptions.MEMORY.withStopAfter(true));
    snapshot = snap.id();
    setup.put("checkpoint_ms", Stats.round(ms(t1)));
  }

  /** All clients start together; returns the wall time from their start to the last one's end. */
  private double runClients() {
    int n = options.clients();
    log.println(
        "bench: "
            + n
            + " clients x "
            + options.iterations()
            + " iteration(s), deadline "
            + options.deadline().toSeconds()
            + " s");
    CountDownLatch go = new CountDownLatch(1);
    ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    for (int i = 0; i < n; i++) {
      int index = i;
      threads.submit(() -> client(index, go));
    }
    threads.shutdown();
    long start = System.nanoTime();
    deadlineNanos = start + options.deadline().toNanos();
    go.countDown();
    try {
      long hardStop = options.deadline().plus(HARD_STOP_GRACE).toNanos();
      if (!threads.awaitTermination(hardStop, TimeUnit.NANOSECONDS)) {
        error(
            "deadline",
            "clients still busy "
                + HARD_STOP_GRACE.toSeconds()
                + " s after the deadline were interrupted");
        threads.shutdownNow();
        threads.awaitTermination(30, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      threads.shutdownNow();
    }
    return ms(start);
  }

  private void client(int index, CountDownLatch go) {
    Sandboxes client;
    try {
      client = clientFactory.apply(index);
    } catch (RuntimeException e) {
      error("client " + index, "cannot connect: " + e.getMessage());
      failed.addAndGet(options.iterations());
      return;
    }
    try (client) {
      go.await();
      for (int i = 0; i < options.iterations(); i++) {
        if (System.nanoTime() - deadlineNanos >= 0) {
          skipped.addAndGet(options.iterations() - i);
          return;
        }
        if (iteration(index, i, client)) {
          completed.incrementAndGet();
        } else {
          failed.incrementAndGet();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      error("client " + index, String.valueOf(e));
    }
  }

  /** One create → exec → fork → exec → terminate round; whatever it made is terminated. */
  private boolean iteration(int client, int i, Sandboxes c) {
    String tag = runId + "-c" + client + "-i" + i;
    SandboxId sandbox = null;
    SandboxId fork = null;
    boolean ok = true;
    try {
      sandbox = timed(CREATE, () -> c.create(spec().image(options.image()).build()).id());
      SandboxId sb = sandbox;
      timed(EXEC, () -> expectOutput(c.exec(sb, Command.of("echo", tag)), tag));
      fork =
          timed(
              FORK,
              () -> {
                ForkResult f = c.fork(spec().snapshot(snapshot).build(), 1).get(0);
                if (!f.ok()) {
                  throw ForkyardException.of(
                      f.errorCode().orElse(ErrorCode.INTERNAL), f.errorMessage());
                }
                return f.sandbox().orElseThrow().id();
              });
      SandboxId fk = fork;
      timed(EXEC, () -> expectOutput(c.exec(fk, Command.of("cat", MARKER_PATH)), runId));
    } catch (OperationFailed e) {
      ok = false;
    } finally {
      for (SandboxId id : new SandboxId[] {fork, sandbox}) {
        if (id != null) {
          try {
            timed(
                TERMINATE,
                () -> {
                  c.terminate(id);
                  return null;
                });
          } catch (OperationFailed e) {
            ok = false;
          }
        }
      }
    }
    return ok;
  }

  private static CommandResult expectOutput(CommandResult r, String expected) {
    if (r.exitCode() != 0 || !r.stdout().strip().equals(expected)) {
      throw new ForkyardException(
          ErrorCode.INTERNAL,
          "expected exit 0 and '"
              + expected
              + "', got exit "
              + r.exitCode()
              + " and '"
              + r.stdout().strip()
              + "' "
              + r.stderr().strip());
    }
    return r;
  }

  private static final class OperationFailed extends RuntimeException {
    OperationFailed() {
      super(null, null, false, false);
    }
  }

  private <T> T timed(String op, Supplier<T> call) {
    long t0 = System.nanoTime();
    try {
      T value = call.get();
      latency.get(op).add(ms(t0));
      okOps.incrementAndGet();
      return value;
    } catch (RuntimeException e) {
      failures.get(op).incrementAndGet();
      ErrorCode code = e instanceof ForkyardException fe ? fe.code() : ErrorCode.INTERNAL;
      failuresByCode.computeIfAbsent(code.name(), k -> new AtomicInteger()).incrementAndGet();
      error(op, code + ": " + e.getMessage());
      throw new OperationFailed();
    }
  }

  private void error(String where, String message) {
    synchronized (errors) {
      if (errors.size() < MAX_ERROR_LINES) {
        errors.add(where + ": " + message);
      }
    }
  }

  /** Sandboxes of this run that are not final once every client has finished. */
  private void findLeaks() {
    leaked =
        admin.list().stream()
            .filter(s -> runId.equals(s.labels().get(LABEL)) && !s.state().isFinal())
            .map(s -> s.id().value())
            .toList();
    if (!leaked.isEmpty()) {
      log.println("bench: " + leaked.size() + " sandbox(es) left running: " + leaked);
    }
  }

  private synchronized void cleanUp() {
    if (cleaned) {
      return;
    }
    cleaned = true;
    try {
      for (SandboxInfo s : admin.list()) {
        if (runId.equals(s.labels().get(LABEL)) && !s.state().isFinal()) {
          try {
            admin.terminate(s.id());
          } catch (ForkyardException e) {
            log.println("bench: could not terminate " + s.id() + ": " + e.getMessage());
          }
        }
      }
    } catch (ForkyardException e) {
      log.println("bench: could not list sandboxes for cleanup: " + e.getMessage());
    }
    if (snapshot != null) {
      try {
        admin.deleteSnapshot(snapshot);
      } catch (ForkyardException e) {
        log.println("bench: could not delete snapshot " + snapshot + ": " + e.getMessage());
      }
    }
  }

  private Map<String, Object> report(Instant started, double wallMs) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("benchmark", "load");
    r.put("run_id", runId);
    r.put("started_at", started.toString());
    r.put("finished_at", Instant.now().toString());
    r.put("target", options.target());
    r.put("runtime", runtime);
    r.put("image", options.image());
    r.put("clients", options.clients());
    r.put("iterations_per_client", options.iterations());
    r.put("deadline_secs", options.deadline().toSeconds());
    r.put("versions", ForkBench.versions());
    r.put("machine", ForkBench.machine());
    r.put(
        "method",
        Map.of(
            "iteration",
            "create(image) -> exec(echo) -> fork(shared MEMORY snapshot, 1) -> exec(cat marker)"
                + " -> terminate(fork) -> terminate(sandbox); each client its own connection",
            "timing",
            "wall clock (System.nanoTime) around each SDK call, successful calls only; ms",
            "throughput",
            "successful SDK calls / wall time from the clients' common start to the last one's end",
            "percentiles",
            "nearest rank"));
    r.put("setup", setup);
    double wallS = wallMs / 1000.0;
    r.put("wall_s", Stats.round(wallS));
    Map<String, Object> it = new LinkedHashMap<>();
    it.put("planned", options.clients() * options.iterations());
    it.put("completed", completed.get());
    it.put("failed", failed.get());
    it.put("skipped_by_deadline", skipped.get());
    r.put("iterations", it);
    int failuresTotal = failures.values().stream().mapToInt(AtomicInteger::get).sum();
    r.put("operations_ok", okOps.get());
    r.put("failures", failuresTotal);
    r.put(
        "throughput_ops_per_s", wallS > 0 ? Math.round(okOps.get() / wallS * 100.0) / 100.0 : null);
    r.put(
        "iterations_per_s", wallS > 0 ? Math.round(completed.get() / wallS * 100.0) / 100.0 : null);
    Map<String, Object> ops = new LinkedHashMap<>();
    for (String op : OPERATIONS) {
      Stats s = latency.get(op);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("n", s.n());
      m.put("failures", failures.get(op).get());
      m.put("p50_ms", Stats.round(s.percentile(50)));
      m.put("p95_ms", Stats.round(s.percentile(95)));
      m.put("p99_ms", Stats.round(s.percentile(99)));
      m.put("min_ms", Stats.round(s.min()));
      m.put("max_ms", Stats.round(s.max()));
      m.put("mean_ms", Stats.round(s.mean()));
      ops.put(op, m);
    }
    r.put("operations", ops);
    Map<String, Integer> byCode = new TreeMap<>();
    failuresByCode.forEach((k, v) -> byCode.put(k, v.get()));
    r.put("failures_by_code", byCode);
    r.put("leaked_sandboxes", leaked.size());
    r.put("leaked", leaked);
    synchronized (errors) {
      r.put("errors", List.copyOf(errors));
    }
    return r;
  }

  private static double ms(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000.0;
  }

  // ---- output

  /** The readable summary: one line per operation, milliseconds. */
  @SuppressWarnings("unchecked")
  public static void printTable(Map<String, Object> report, PrintStream out) {
    Map<String, Object> machine = (Map<String, Object>) report.get("machine");
    Map<String, Object> it = (Map<String, Object>) report.get("iterations");
    out.printf(
        "forkyard bench load: %s clients x %s iteration(s) against %s (%s), %s cores%n",
        report.get("clients"),
        report.get("iterations_per_client"),
        report.get("target"),
        report.get("runtime"),
        machine.get("cores"));
    out.printf(
        "iterations %s/%s completed, %s failed, %s skipped by deadline; wall %s s;"
            + " %s ops/s, %s iterations/s%n",
        it.get("completed"),
        it.get("planned"),
        it.get("failed"),
        it.get("skipped_by_deadline"),
        report.get("wall_s"),
        report.get("throughput_ops_per_s"),
        report.get("iterations_per_s"));
    out.printf(
        "%-10s %5s %5s %9s %9s %9s %9s%n", "operation", "n", "fail", "p50", "p95", "p99", "max");
    Map<String, Object> ops = (Map<String, Object>) report.get("operations");
    for (String op : OPERATIONS) {
      Map<String, Object> s = (Map<String, Object>) ops.get(op);
      out.printf(
          "%-10s %5s %5s %9s %9s %9s %9s%n",
          op,
          s.get("n"),
          s.get("failures"),
          num(s.get("p50_ms")),
          num(s.get("p95_ms")),
          num(s.get("p99_ms")),
          num(s.get("max_ms")));
    }
    out.println("leaked sandboxes: " + report.get("leaked_sandboxes"));
    List<String> errors = (List<String>) report.get("errors");
    if (!errors.isEmpty()) {
      out.println("errors (first " + errors.size() + "):");
      errors.forEach(e -> out.println("  " + e));
    }
  }

  private static String num(Object v) {
    return v == null ? "-" : String.format("%.1f", ((Number) v).doubleValue());
  }
}
